/**
 * Every request this node has handed on and not yet answered, by a node-unique
 * serial (the key its reply comes back under), in three kinds:
 *
 * - `local`: from one of this node's sockets to one of its shards;
 * - `out`: from one of this node's sockets, forwarded to the owner on another
 *   node; answered `unavailable` if no reply comes within the forward timeout;
 * - `in`: forwarded here by another node, running on one of this node's shards;
 *   its reply goes back to that node under the serial it came with.
 *
 * A `local` or `out` request comes from a socket or from an internal call (code
 * inside this node: a job, the gRPC API), whose answer goes to its callback.
 *
 * The table keeps the bounds: requests in flight per shard and per destination
 * node. Forward deadlines are checked by a sweep from the oldest (requests are
 * added in deadline order), so each expiry costs O(1).
 */
import type { Shard } from '@whispr/actors';
import type { Op, RequestId, WhisprError } from '@whispr/protocol';
import type { Connection } from './connection.ts';

interface FromSocket {
  origin: 'socket';
  conn: Connection;
  enc: 0 | 1;
  re: RequestId | null;
  /** The op run: its rate token (op-rate-limits.ts) is given back if it could not be carried out. */
  op: Op;
  /** The frame's read position on its connection (for the count of undecodable frames). */
  position: number;
}

/** The owner's encoded reply (MessagePack; `bytes` valid only during the call), or the error it could not run with. */
export type InternalAnswer = (outcome: { flags: number; bytes: Uint8Array } | WhisprError) => void;

interface FromInside {
  origin: 'internal';
  answer: InternalAnswer;
}

type Origin = FromSocket | FromInside;

export type PendingRequest =
  | ({ kind: 'local'; shard: Shard } & Origin)
  | ({ kind: 'out'; node: string; deadline: number } & Origin)
  | { kind: 'in'; from: string; originSerial: number; shard: Shard };

export class RequestTable {
  private serial = 0;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly perShard = new Map<Shard, number>();
  private readonly perNode = new Map<string, number>();
  /** `out` serials in deadline order (a Map keeps insertion order). */
  private readonly deadlines = new Map<number, number>();
  private internalCalls = 0;

  get size(): number {
    return this.pending.size;
  }

  /** Internal calls in flight (they have no connection to bound them). */
  get internal(): number {
    return this.internalCalls;
  }

  loadOf(shard: Shard): number {
    return this.perShard.get(shard) ?? 0;
  }

  outboundTo(node: string): number {
    return this.perNode.get(node) ?? 0;
  }

  add(entry: PendingRequest): number {
    const serial = ++this.serial;
    this.pending.set(serial, entry);
    if (entry.kind === 'out') {
      this.perNode.set(entry.node, this.outboundTo(entry.node) + 1);
      this.deadlines.set(serial, entry.deadline);
    } else this.perShard.set(entry.shard, this.loadOf(entry.shard) + 1);
    if (entry.kind !== 'in') {
      if (entry.origin === 'socket') entry.conn.inflight++;
      else this.internalCalls++;
    }
    return serial;
  }

  get(serial: number): PendingRequest | undefined {
    return this.pending.get(serial);
  }

  /** Takes the request out of the table (its answer is being written); undefined if it was answered already. */
  settle(serial: number): PendingRequest | undefined {
    const entry = this.pending.get(serial);
    if (!entry) return undefined;
    this.pending.delete(serial);
    if (entry.kind === 'out') {
      this.perNode.set(entry.node, this.outboundTo(entry.node) - 1);
      this.deadlines.delete(serial);
    } else this.perShard.set(entry.shard, this.loadOf(entry.shard) - 1);
    if (entry.kind !== 'in') {
      if (entry.origin === 'socket') entry.conn.inflight--;
      else this.internalCalls--;
    }
    return entry;
  }

  /** Settles and returns every request forwarded to `node` (it left the ring). O(requests forwarded). */
  forwardedTo(node: string): { serial: number; entry: PendingRequest }[] {
    const out: { serial: number; entry: PendingRequest }[] = [];
    if (this.outboundTo(node) === 0) return out;
    for (const serial of this.deadlines.keys()) {
      const entry = this.pending.get(serial);
      if (entry?.kind !== 'out' || entry.node !== node) continue;
      this.settle(serial);
      out.push({ serial, entry });
    }
    return out;
  }

  /** Settles and returns the forwarded requests whose deadline has passed. */
  expired(now: number): { serial: number; entry: PendingRequest }[] {
    const out: { serial: number; entry: PendingRequest }[] = [];
    for (const [serial, deadline] of this.deadlines) {
      if (deadline > now) break;
      const entry = this.settle(serial);
      if (entry) out.push({ serial, entry });
    }
    return out;
  }
}
