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
import {
  ConversationNotFoundError, ErrorCode, WhisprError, badRequest, conflict, forbidden, notFound, rateLimited, tooLarge, unavailable,
  type Conversation, type JsonObject, type Message, type RequestOf,
} from '@whispr/protocol';
import {
  BatchFailedError, BatchRowRefusedError, CREATED_EPOCH, directConversationId, historyPage, insertConversation, loadConversation, toMessage,
  type Ownership, type SendOutcome, type SeqCounter,
} from '@whispr/store';
import { ConversationState } from './conversation-state.ts';
import { contentDigest, RecentSends, type RecentSend } from './recent-sends.ts';
import type { WorkerContext } from './worker-context.ts';

export interface Caller {
  userId: string;
}

type Reply = Record<string, unknown>;

const settle = (p: Promise<unknown>): Promise<void> => p.then(() => undefined, () => undefined);

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
  private lastWrite: Promise<unknown> = Promise.resolve();
  private readonly recent = new RecentSends();
  /** Until when a load that found nothing is trusted (queued requests for a missing id cost no query each). */
  private missingUntil = 0;

  constructor(conversationId: string, private readonly ctx: WorkerContext, private readonly onLoaded: () => void = () => undefined) {
    this.conversationId = conversationId;
  }

  /** No operation running or waiting and no write in flight: safe to evict. */
  get idle(): boolean {
    return this.pendingOps === 0 && this.writesInFlight === 0;
  }

  get loaded(): boolean {
    return this.state !== null;
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

  /** Runs `step` after every operation that arrived before it. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    this.lastUsed = Date.now();
    if (this.pendingOps >= MAX_PENDING_OPS) return Promise.reject(rateLimited('too many requests waiting for this conversation', BUSY_RETRY_MS));
    this.pendingOps++;
    const run = this.queue.then(step);
    this.queue = settle(run);
    return run.finally(() => {
      this.pendingOps--;
    });
  }

  private async ensureLoaded(): Promise<ConversationState | null> {
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
    this.state = new ConversationState(loaded);
    this.epoch = loaded.epoch;
    this.claimGeneration = generation;
    this.lastSeq = loaded.maxSeq;
    this.committedSeq = loaded.maxSeq;
    if (first) this.onLoaded();
    return this.state;
  }

  /** A write may be handed over only while the shard's queues have room (invariant 6). */
  private checkRoom(): void {
    if (!this.ctx.writer.hasRoom(this.conversationId)) throw rateLimited('the conversation’s writer is busy', BUSY_RETRY_MS);
    if (this.ctx.fanout.saturated) throw rateLimited('the shard’s delivery backlog is full', BUSY_RETRY_MS);
  }

  private async memberState(userId: string): Promise<ConversationState> {
    const state = await this.ensureLoaded();
    if (!state) throw new ConversationNotFoundError();
    if (!state.isActiveMember(userId)) throw forbidden('not an active member of this conversation');
    return state;
  }

  /** The conversation as `viewer` sees it (their own member settings only); null: as an event to many (no settings). */
  private conversation(state: ConversationState, viewer: string | null): Conversation {
    return state.toWire(this.committedSeq, viewer);
  }

  async get(caller: Caller): Promise<Reply> {
    // The member list in memory runs ahead of commits (receipts update it when handed
    // over): wait for those writes, then answer from the state as it stands.
    const before = await this.serial(async () => {
      await this.memberState(caller.userId);
      return { pending: this.lastWrite };
    });
    await settle(before.pending);
    return this.serial(async () => ({ conversation: this.conversation(await this.memberState(caller.userId), caller.userId) }));
  }

  async send(caller: Caller, req: RequestOf<'msg.send'>): Promise<Reply> {
    const { limits } = this.ctx;
    if (req.content.byteLength > limits.max_content_bytes) throw tooLarge('content', `over ${limits.max_content_bytes} bytes`);
    const metadata = req.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > limits.max_metadata_bytes) throw tooLarge('metadata', `over ${limits.max_metadata_bytes} bytes`);
    (req.attachments ?? []).forEach((a, i) => {
      if (a.metadata && Buffer.byteLength(JSON.stringify(a.metadata)) > limits.max_metadata_bytes) {
        throw tooLarge(`attachments.${i}.metadata`, `over ${limits.max_metadata_bytes} bytes`);
      }
    });
    const digest = contentDigest(req.content);

    const handed = await this.serial(async () => {
      const state = await this.memberState(caller.userId);
      const prior = this.recent.get(caller.userId, req.client_random);
      if (prior) return { kind: 'repeat' as const, prior };
      this.checkRoom();
      if (req.reply_to_id) await this.checkReplyTarget(req.reply_to_id);
      const members = state.activeMemberIds();
      const outcome = this.ctx.writer.send({
        counter: this,
        senderId: caller.userId,
        clientRandom: req.client_random,
        type: req.type,
        content: req.content,
        metadata,
        replyToId: req.reply_to_id ?? null,
        attachments: (req.attachments ?? []).map((a) => ({ media_id: a.media_id, media_type: a.media_type, metadata: a.metadata ?? {} })),
        recipients: members.filter((u) => u !== caller.userId),
      });
      const entry: RecentSend = { digest, outcome: this.track(outcome) };
      this.recent.set(caller.userId, req.client_random, entry);
      return { kind: 'new' as const, entry, members };
    });

    if (handed.kind === 'repeat') {
      if (handed.prior.digest !== digest) throw conflict('client_random already used by this sender for a different message');
      const first = await this.awaitCommit(handed.prior.outcome);
      if (first.kind === 'conflict') throw conflict('client_random already used by this sender for a different message');
      return { message: { id: first.id, seq: first.seq, sent_at: first.sentAt }, duplicate: true };
    }

    let outcome: SendOutcome;
    try {
      outcome = await this.awaitCommit(handed.entry.outcome);
    } catch (err) {
      this.recent.delete(caller.userId, req.client_random, handed.entry);
      throw err;
    }
    switch (outcome.kind) {
      case 'conflict':
        this.recent.delete(caller.userId, req.client_random, handed.entry);
        throw conflict(
          outcome.existingConversationId === this.conversationId
            ? 'client_random already used by this sender for a different message'
            : 'client_random already used by this sender in another conversation',
        );
      case 'duplicate':
        return { message: { id: outcome.id, seq: outcome.seq, sent_at: outcome.sentAt }, duplicate: true };
      case 'stored': {
        if (this.state) this.state.row.updated_at = Math.max(this.state.row.updated_at, outcome.sentAt);
        const message: Message = {
          id: outcome.id,
          conversation_id: this.conversationId,
          seq: outcome.seq,
          sender_id: caller.userId,
          type: req.type,
          content: req.content,
          metadata,
          reply_to_id: req.reply_to_id ?? null,
          client_random: req.client_random,
          sent_at: outcome.sentAt,
          edited_at: null,
          is_deleted: false,
          delete_for_everyone: false,
          attachments: (req.attachments ?? []).map((a, i) => ({
            id: outcome.attachmentIds[i] ?? '',
            media_id: a.media_id,
            media_type: a.media_type,
            metadata: a.metadata ?? {},
          })),
          reactions: [],
        };
        this.ctx.fanout.messageCommitted(message, handed.members, caller.userId);
        return { message: { id: outcome.id, seq: outcome.seq, sent_at: outcome.sentAt } };
      }
    }
  }

  /** Hands a write over and remembers it, so reads and reloads can wait for it. */
  private track<T>(write: Promise<T>): Promise<T> {
    this.writesInFlight++;
    this.lastWrite = write;
    void settle(write).then(() => {
      this.writesInFlight--;
    });
    return write;
  }

  private async checkReplyTarget(replyToId: string): Promise<void> {
    const found = await this.ctx.pg.query('SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2', [replyToId, this.conversationId]);
    if (found.rowCount === 0) throw notFound('reply_to_id: no such message in this conversation');
  }

  private async awaitCommit<T>(commit: Promise<T>): Promise<T> {
    try {
      return await commit;
    } catch (err) {
      if (err instanceof BatchFailedError) throw unavailable('the write could not be committed; retry with the same client_random', { cause: err });
      if (err instanceof BatchRowRefusedError) throw badRequest('', `the database refused this request: ${err.reason}`);
      throw err;
    }
  }

  async receipt(caller: Caller, kind: 'delivered' | 'read', upToSeq: number): Promise<Reply> {
    const handed = await this.serial(async () => {
      const state = await this.memberState(caller.userId);
      const member = state.members.get(caller.userId);
      if (!member) throw forbidden('not an active member of this conversation');
      const upTo = Math.min(upToSeq, this.committedSeq);
      const fromSeq = kind === 'read' ? member.lastReadSeq : member.lastDeliveredSeq;
      // Nothing new, but an earlier receipt covering it may still be committing:
      // the reply must not come before it (a request sent after it must see it).
      if (upTo <= fromSeq) return { upTo, commit: null, pending: this.lastWrite };
      this.checkRoom();
      const at = Date.now();
      const readTo = kind === 'read' ? upTo : member.lastReadSeq;
      member.lastDeliveredSeq = Math.max(member.lastDeliveredSeq, upTo);
      if (kind === 'read') {
        member.lastReadSeq = upTo;
        member.lastReadAt = at;
      }
      const commit = this.track(this.ctx.writer.receipt({ counter: this, userId: caller.userId, fromSeq, toSeq: upTo, readToSeq: readTo, at }));
      return { upTo, commit, at, members: state.activeMemberIds() };
    });
    if (!handed.commit) {
      await this.awaitCommit(handed.pending);
    } else {
      await this.awaitCommit(handed.commit);
      this.ctx.fanout.event(handed.members, {
        ev: 'receipt',
        conversation_id: this.conversationId,
        user_id: caller.userId,
        kind,
        up_to_seq: handed.upTo,
        at: handed.at,
      });
    }
    await this.ctx.fanout.acknowledge(caller.userId, this.conversationId, upToSeq);
    return {};
  }

  async history(caller: Caller, req: RequestOf<'msg.history'>): Promise<Reply> {
    const max = this.ctx.limits.history_max;
    const limit = req.limit ?? Math.min(50, max);
    if (limit > max) throw badRequest('limit', `must be at most ${max}`);
    const barrier = await this.serial(async () => {
      await this.memberState(caller.userId);
      return { pending: this.lastWrite };
    });
    await settle(barrier.pending);
    const page = await historyPage(this.ctx.pg, this.conversationId, caller.userId, req.before_seq ?? null, limit);
    return { messages: page.rows.map(toMessage), has_more: page.hasMore };
  }

  /** conv.direct: this actor's id is derived from the pair, so concurrent creators meet here. */
  async openDirect(caller: Caller, otherUserId: string): Promise<Reply> {
    if (otherUserId === caller.userId) throw badRequest('user_id', 'must not be the caller’s own id');
    // Conversations are created only at ids the server derives: this actor must be the pair's.
    if (directConversationId(caller.userId, otherUserId) !== this.conversationId) throw new WhisprError(ErrorCode.Internal, 'direct conversation opened at an id that is not its pair’s');
    return this.serial(async () => {
      let state = await this.ensureLoaded();
      let created = false;
      if (!state) {
        created = await this.create({
          type: 'direct', metadata: {}, externalGroupId: null, createdBy: caller.userId,
          members: [{ userId: caller.userId, role: 'member' }, { userId: otherUserId, role: 'member' }],
        });
        state = await this.ensureLoaded();
        if (!state) throw new WhisprError(ErrorCode.Internal, 'direct conversation vanished after creation');
      }
      if (!state.isDirectOf(caller.userId, otherUserId)) {
        // Only data written before ids were derived server-side can get here; never hand it out.
        this.ctx.logger.error({ conversation: this.conversationId, type: state.row.type }, 'the id of a direct pair holds another conversation');
        throw new WhisprError(ErrorCode.Internal, 'this pair’s direct conversation id is taken by another conversation');
      }
      if (created) this.ctx.fanout.event([otherUserId], { ev: 'conv.updated', conversation: this.conversation(state, null) });
      return { conversation: this.conversation(state, caller.userId) };
    });
  }

  /** conv.group: the gateway picked a fresh id for it, so this actor is new. */
  async createGroup(caller: Caller, req: RequestOf<'conv.group'>): Promise<Reply> {
    const metadata: JsonObject = req.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > this.ctx.limits.max_metadata_bytes) throw tooLarge('metadata', `over ${this.ctx.limits.max_metadata_bytes} bytes`);
    const others = [...new Set(req.user_ids)].filter((u) => u !== caller.userId);
    return this.serial(async () => {
      const created = await this.create({
        type: 'group', metadata, externalGroupId: req.external_group_id ?? null, createdBy: caller.userId,
        members: [{ userId: caller.userId, role: 'admin' }, ...others.map((userId) => ({ userId, role: 'member' as const }))],
      });
      if (!created) throw new WhisprError(ErrorCode.Internal, 'group id collision');
      const state = await this.ensureLoaded();
      if (!state) throw new WhisprError(ErrorCode.Internal, 'group vanished after creation');
      if (others.length > 0) this.ctx.fanout.event(others, { ev: 'conv.updated', conversation: this.conversation(state, null) });
      return { conversation: this.conversation(state, caller.userId) };
    });
  }

  private async create(spec: Omit<Parameters<typeof insertConversation>[1], 'id' | 'createdAt' | 'owner'>): Promise<boolean> {
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
