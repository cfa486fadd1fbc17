/**
 * One conversation's actor. It is the only writer of its conversation (DESIGN.md
 * invariant 1): it orders the conversation's operations, checks membership from
 * its in-memory member list on every one (invariant 5), hands writes to the
 * shard's group-commit writer, which assigns seq at commit (invariant 3), and
 * replies only after commit (invariant 2).
 *
 * Operations run one at a time through `serial`, but a write does not hold the
 * line while it commits: the next send is handed to the writer straight away and
 * joins the same batch. Reads wait for the writes handed over before them.
 *
 * Ownership (DESIGN.md "Fencing"): loading the conversation claims it in
 * PostgreSQL (a new owner_epoch), and every batch the writer commits for it is
 * fenced on that epoch. The actor serves and claims only while the node's
 * OwnershipLease is valid, claims again when the lease's generation has moved
 * since its claim, and after being fenced does not claim again in the same
 * generation for FENCED_HOLDOFF_MS: the fence means another node believes it
 * owns the conversation, and claiming straight back would take it from that node
 * and get this one fenced in turn, over and over.
 */
import { ConversationNotFoundError, badRequest, forbidden, notFound, rateLimited, unavailable, type Conversation } from '@whispr/protocol';
import {
  BatchFailedError, BatchRowRefusedError, CREATED_EPOCH, insertConversation, loadConversation, type Ownership, type SeqCounter,
} from '@whispr/store';
import { ConversationState } from './conversation-state.ts';
import { runExclusive, type ExclusiveTx } from './exclusive.ts';
import { KnownMessages } from './known-messages.ts';
import { RecentSends } from './recent-sends.ts';
import type { CallerKind } from './shard-contract.ts';
import type { WorkerContext } from './worker-context.ts';

export interface Caller {
  userId: string;
  /** How the request came (shard-contract.ts CallerKind); absent: a client's socket. */
  kind?: CallerKind;
}

/** Who may run an operation on a conversation: an active member, or an admin of it (PROTOCOL.md §5). */
export type Access = 'member' | 'admin';

/** Resolves when `p` settles, whichever way (a barrier, not a result). */
export const settle = (p: Promise<unknown>): Promise<void> => p.then(() => undefined, () => undefined);

/**
 * Operations one actor may have running or waiting; past it a request is
 * answered rate_limited at once instead of lengthening the line (invariant 6).
 */
export const MAX_PENDING_OPS = 1000;
/** How soon a client refused for a full queue (actor, writer or fan-out) should retry. */
const BUSY_RETRY_MS = 200;
/** How long a conversation found missing is answered from memory by its actor. */
const MISSING_TTL_MS = 5_000;
/**
 * After a fence, how long the actor refuses to claim again while the lease's
 * generation stays the same: two ring refreshes (1 s each), by when the node
 * that claimed it has, if its ring was the stale one, seen the same ring as this
 * node and stopped routing the conversation to itself.
 */
export const FENCED_HOLDOFF_MS = 2_000;

export class ConversationActor implements SeqCounter {
  readonly conversationId: string;
  /** The owner_epoch of this actor's claim (0: none yet); the writer fences every batch on it. */
  epoch = 0;
  lastSeq = 0;
  committedSeq = 0;
  lastUsed = Date.now();
  /** The lease generation the claim was made under; another one means claim again before serving. */
  private claimGeneration = -1;
  /** create() inserted the conversation, claimed at CREATED_EPOCH in this generation: the load after it need not claim. */
  private created: { generation: number } | null = null;
  /** Fenced while claimed under this generation: no new claim in it before fencedUntil. */
  private fencedGeneration = -1;
  private fencedUntil = 0;
  private state: ConversationState | null = null;
  private stale = true;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingOps = 0;
  private writesInFlight = 0;
  /** The latest write handed to the writer; reads and reloads wait for it. */
  lastWrite: Promise<unknown> = Promise.resolve();
  /** Recent sends by (sender, client_random): retries answered from memory (recent-sends.ts). */
  readonly recent = new RecentSends();
  /** Ids of messages known to be this conversation's (reply_to_id checks without a query: known-messages.ts). */
  readonly knownMessages = new KnownMessages();
  /** Until when a load that found nothing is trusted (queued requests for a missing id cost no query each). */
  private missingUntil = 0;

  constructor(conversationId: string, readonly ctx: WorkerContext, private readonly onLoaded: () => void = () => undefined) {
    this.conversationId = conversationId;
  }

  /** No operation running or waiting and no write in flight: safe to evict. */
  get idle(): boolean {
    return this.pendingOps === 0 && this.writesInFlight === 0;
  }

  get loaded(): boolean {
    return this.state !== null;
  }

  /** The state in memory, if loaded (for a handler updating it after a commit it saw). */
  get loadedState(): ConversationState | null {
    return this.state;
  }

  invalidate(): void {
    this.stale = true;
  }

  fenced(): void {
    this.stale = true;
    this.fencedGeneration = this.claimGeneration;
    this.fencedUntil = Date.now() + FENCED_HOLDOFF_MS;
    this.ctx.logger.warn({ conversation: this.conversationId, epoch: this.epoch }, 'fenced: another owner has claimed this conversation');
  }

  /** Runs `step` after every operation that arrived before it (the conversation's line). */
  serial<T>(step: () => Promise<T>): Promise<T> {
    this.lastUsed = Date.now();
    if (this.pendingOps >= MAX_PENDING_OPS) return Promise.reject(rateLimited('too many requests waiting for this conversation', BUSY_RETRY_MS));
    this.pendingOps++;
    const run = this.queue.then(step);
    this.queue = settle(run);
    return run.finally(() => {
      this.pendingOps--;
    });
  }

  async ensureLoaded(): Promise<ConversationState | null> {
    const lease = this.ctx.ownership;
    // Past the lease other nodes may own the conversation already: nothing is served from memory.
    if (!lease.isValid()) throw unavailable('this node’s ownership lease has lapsed; retry');
    if (this.state && !this.stale && this.claimGeneration === lease.generation) return this.state;
    if (!this.state && Date.now() < this.missingUntil) return null;
    // Never reload under a write in flight: it would hand out its seqs again.
    await settle(this.lastWrite);
    // Read before the claim: a generation that moves during it makes the next request claim again.
    const generation = lease.generation;
    const now = Date.now();
    if (!lease.isValid(now)) throw unavailable('this node’s ownership lease has lapsed; retry');
    if (generation === this.fencedGeneration && now < this.fencedUntil) throw unavailable('another node has claimed this conversation; retry');
    const ownership: Ownership = this.created?.generation === generation ? { heldEpoch: CREATED_EPOCH } : { claimFor: this.ctx.owner };
    this.created = null;
    const loaded = await loadConversation(this.ctx.pg, this.conversationId, ownership);
    this.stale = false;
    if (!loaded) {
      this.state = null;
      // Remembered briefly only: creating it here (create()) forgets it at once.
      this.stale = true;
      this.missingUntil = Date.now() + MISSING_TTL_MS;
      return null;
    }
    const first = this.state === null;
    this.knownMessages.clear();
    this.state = new ConversationState(loaded);
    this.epoch = loaded.epoch;
    this.claimGeneration = generation;
    this.lastSeq = loaded.maxSeq;
    this.committedSeq = loaded.maxSeq;
    if (first) this.onLoaded();
    return this.state;
  }

  /** A write may be handed over only while the shard's queues have room (invariant 6). */
  checkRoom(): void {
    if (!this.ctx.writer.hasRoom(this.conversationId)) throw rateLimited('the conversation’s writer is busy', BUSY_RETRY_MS);
    if (this.ctx.fanout.saturated) throw rateLimited('the shard’s delivery backlog is full', BUSY_RETRY_MS);
  }

  /** The loaded conversation, checked: it exists and `userId` is an active member. */
  async memberState(userId: string): Promise<ConversationState> {
    const state = await this.ensureLoaded();
    if (!state) throw new ConversationNotFoundError();
    if (!state.isActiveMember(userId)) throw forbidden('not an active member of this conversation');
    return state;
  }

  /** The loaded conversation, checked for `access`: an active member, and for 'admin' an admin of it. */
  async authorized(userId: string, access: Access): Promise<ConversationState> {
    const state = await this.memberState(userId);
    if (access === 'admin' && state.members.get(userId)?.role !== 'admin') throw forbidden('only an admin of this conversation may do this');
    return state;
  }

  /**
   * `authorized` for a caller: the service itself (internal calls only) has admin
   * rights on any conversation that exists without being a member of it.
   */
  async authorizedCaller(caller: Caller, access: Access): Promise<ConversationState> {
    if (caller.kind !== 'service') return this.authorized(caller.userId, access);
    const state = await this.ensureLoaded();
    if (!state) throw new ConversationNotFoundError();
    return state;
  }

  /**
   * A read that sees every write handed over before it (a request sent after a
   * reply sees that reply's change): checked in line, then, once those writes
   * have committed, run in line against the state as it stands.
   */
  async read<T>(caller: Caller, access: Access, work: (state: ConversationState) => Promise<T>): Promise<T> {
    const before = await this.serial(async () => {
      await this.authorizedCaller(caller, access);
      return { pending: this.lastWrite };
    });
    await settle(before.pending);
    return this.serial(async () => work(await this.authorizedCaller(caller, access)));
  }

  /**
   * A write that is not a message send or a receipt (an edit, a membership
   * change, settings, reactions, pins): in line, after every write handed over
   * before it has committed, as one transaction that starts with the ownership
   * fence (a stale owner's change fails inside it). The in-memory state changes
   * only after the commit (exclusive.ts).
   */
  exclusive<T>(caller: Caller, access: Access, work: (tx: ExclusiveTx, state: ConversationState) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const state = await this.authorizedCaller(caller, access);
      await settle(this.lastWrite);
      return runExclusive(this, state, caller, work);
    });
  }

  /** The conversation as `viewer` sees it (their own member settings only); null: as an event to many (no settings). */
  conversation(state: ConversationState, viewer: string | null): Conversation {
    return state.toWire(this.committedSeq, viewer);
  }

  /** Hands a write over and remembers it, so reads and reloads can wait for it. */
  track<T>(write: Promise<T>): Promise<T> {
    this.writesInFlight++;
    this.lastWrite = write;
    void settle(write).then(() => {
      this.writesInFlight--;
    });
    return write;
  }

  /** A reply_to_id must name a message of this conversation: from memory when the actor knows it, else one look-up. */
  async checkReplyTarget(replyToId: string): Promise<void> {
    if (this.knownMessages.has(replyToId)) return;
    this.ctx.counters.replyLookups++;
    const found = await this.ctx.pg.query('SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2', [replyToId, this.conversationId]);
    if (found.rowCount === 0) throw notFound('reply_to_id: no such message in this conversation');
    this.knownMessages.add(replyToId);
  }

  /** A commit's outcome, its failures mapped to coded errors. */
  async awaitCommit<T>(commit: Promise<T>): Promise<T> {
    try {
      return await commit;
    } catch (err) {
      if (err instanceof BatchFailedError) throw unavailable('the write could not be committed; retry with the same client_random', { cause: err });
      if (err instanceof BatchRowRefusedError) throw badRequest('', `the database refused this request: ${err.reason}`);
      throw err;
    }
  }

  async create(spec: Omit<Parameters<typeof insertConversation>[1], 'id' | 'createdAt' | 'owner'>): Promise<boolean> {
    // Creating is claiming (the row starts at CREATED_EPOCH, owned by this shard).
    const generation = this.ctx.ownership.generation;
    if (!this.ctx.ownership.isValid()) throw unavailable('this node’s ownership lease has lapsed; retry');
    const client = await this.ctx.pg.connect();
    try {
      await client.query('BEGIN');
      const created = await insertConversation(client, { ...spec, id: this.conversationId, createdAt: Date.now(), owner: this.ctx.owner });
      await client.query('COMMIT');
      this.created = created ? { generation } : null;
      this.stale = true;
      this.missingUntil = 0;
      return created;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined /* the original error is what matters */);
      throw err;
    } finally {
      client.release();
    }
  }
}
