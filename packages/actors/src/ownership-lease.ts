/**
 * Whether this node may claim conversations now, shared between the node's main
 * thread (which writes it, from its membership) and its shards (which read it,
 * in worker threads or inline). DESIGN.md "Fencing".
 *
 * The database fence (store/fence.ts) is what keeps a stale owner from
 * committing; it does not need this lease to be right. The lease is what keeps
 * a fenced owner from claiming the conversation straight back (and the two
 * owners from taking it from each other in turn): a shard claims only while its
 * node's lease is valid, i.e. while its own heartbeat is recent enough that no
 * other node can yet have dropped it from the ring.
 *
 * - `validUntil` (ms since the epoch): a shard serves its conversations, and
 *   loads (claims) new ones, only before it. Past it the node's heartbeat may
 *   have lapsed for the others, so they may own its conversations already.
 * - `generation`: bumped whenever this node's ownership may have been
 *   interrupted: the ring changed, or the lease lapsed and was renewed. An actor
 *   remembers the generation it claimed under and claims again (reloads) when it
 *   differs, so a conversation that went away and came back is never served from
 *   memory loaded before.
 *
 * Both live in one SharedArrayBuffer as BigInt64 cells accessed with Atomics:
 * the generation is published before a renewal that follows a lapse (a reader
 * that sees the new validUntil sees the new generation), and a value is never
 * read half-written, which plain Float64Array accesses do not promise.
 */

const VALID_UNTIL = 0;
const GENERATION = 1;

export class OwnershipLease {
  /** Bytes of the shared buffer. */
  static readonly BYTES = 16;
  readonly buffer: SharedArrayBuffer;
  private readonly cells: BigInt64Array;

  /** A new lease (never valid yet), or a view of one another thread created. */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(OwnershipLease.BYTES)) {
    if (buffer.byteLength !== OwnershipLease.BYTES) throw new TypeError(`OwnershipLease buffer must be ${OwnershipLease.BYTES} bytes, got ${buffer.byteLength}`);
    this.buffer = buffer;
    this.cells = new BigInt64Array(buffer);
  }

  /** Until when (ms since the epoch) the node may serve and claim; 0: never, or revoked. */
  get validUntil(): number {
    return Number(Atomics.load(this.cells, VALID_UNTIL));
  }

  get generation(): number {
    return Number(Atomics.load(this.cells, GENERATION));
  }

  isValid(now = Date.now()): boolean {
    return now < this.validUntil;
  }

  /**
   * Extends (or shortens) the lease to `validUntilMs`. Renewing a lease that had
   * lapsed starts a new generation first: while it was lapsed another node may
   * have claimed and written any of our conversations.
   */
  renew(validUntilMs: number, now = Date.now()): void {
    if (!Number.isFinite(validUntilMs)) throw new TypeError(`OwnershipLease.renew needs a finite time, got ${validUntilMs}`);
    if (!this.isValid(now)) this.nextGeneration();
    Atomics.store(this.cells, VALID_UNTIL, BigInt(Math.floor(validUntilMs)));
  }

  /** Ends the lease now (the node is leaving the ring): no further claims, nothing served. */
  revoke(): void {
    Atomics.store(this.cells, VALID_UNTIL, 0n);
  }

  /** Starts a new generation (the ring changed); returns it. */
  nextGeneration(): number {
    return Number(Atomics.add(this.cells, GENERATION, 1n)) + 1;
  }
}
