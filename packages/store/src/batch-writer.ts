/**
 * Group commit for one shard (DESIGN.md "Hot path"). Writes that arrive while a
 * transaction is in flight wait and go into the next one, as one multi-row
 * statement per table. Exactly one transaction is in flight per writer: seqs
 * are assigned when a batch is built, so two overlapping transactions could
 * commit out of order and a failed first one would leave a hole.
 *
 * Each batch is one autocommit statement: INSERT messages, delivery_statuses and
 * message_attachments, and the receipts' UPDATEs of delivery_statuses and
 * conversation_members, as data-modifying CTEs over `unnest` arrays
 * (batch-statements.ts). That fast path skips the look-up and inserts plainly (ON CONFLICT would make
 * every row a speculative insertion, for a case the actor's memory almost always
 * catches); when the insert hits an existing (sender_id, client_random), the
 * batch is rolled back and rebuilt with the look-up, so an idempotent duplicate
 * never consumes a seq.
 *
 * Every batch is fenced (fence.ts): it commits only if each of its
 * conversations is still claimed at the epoch its actor holds. A fenced
 * conversation's writes fail with BatchFencedError and are never retried; the
 * batch's other writes are committed again without them.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { JsonObject, MessageType } from '@whispr/protocol';
import { writeBatch, writeBatchStepByStep, type BatchCounts } from './batch-statements.ts';
import { checkFence, fencedConversations, fencePairs, isFenced } from './fence.ts';
import { newId } from './ids.ts';
import { findExistingSends, type ExistingSend } from './message-repo.ts';

/** The seq counter of one conversation, owned by its actor and advanced only here. */
export interface SeqCounter {
  readonly conversationId: string;
  /** The ownership epoch its actor claimed (conversations.owner_epoch): every batch writing for it checks it (fence.ts). */
  readonly epoch: number;
  /** Highest seq handed out (committed or in the batch being written). */
  lastSeq: number;
  /** Highest seq known committed. */
  committedSeq: number;
  /** Called when a batch touching this conversation failed: the actor must reload before its next write. */
  invalidate(): void;
  /**
   * Called instead of invalidate when the fence refused a batch: another owner has
   * claimed the conversation since this counter's claim. Reloading would claim it
   * back, so the actor must not do that while it has no fresh reason to think it owns it.
   */
  fenced(): void;
}

export interface SendRequest {
  counter: SeqCounter;
  senderId: string;
  clientRandom: number;
  type: MessageType;
  content: Uint8Array;
  metadata: JsonObject;
  replyToId: string | null;
  attachments: { media_id: string; media_type: string; metadata: JsonObject }[];
  /** Active members other than the sender: each gets a delivery status row. */
  recipients: string[];
  /** The scheduled message this send delivers: marked sent in the same commit (batch-statements.ts). */
  scheduledId?: string | null;
}

export type SendOutcome =
  | { kind: 'stored'; id: string; seq: number; sentAt: number; attachmentIds: string[] }
  | { kind: 'duplicate'; id: string; seq: number; sentAt: number }
  | { kind: 'conflict'; existingConversationId: string };

export interface ReceiptRequest {
  counter: SeqCounter;
  userId: string;
  /** Messages with fromSeq < seq <= toSeq are marked. */
  fromSeq: number;
  toSeq: number;
  /** Marks read (and delivered) up to readToSeq; delivered only above it. */
  readToSeq: number;
  at: number;
}

/** A failure the caller should report as `unavailable` (PostgreSQL could not be reached or kept failing; nothing of it is known committed). */
export class BatchFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchFailedError';
  }
}

/**
 * The fence refused the write: another owner has claimed its conversation since
 * its actor did. Nothing of it was committed; the client's retry (unavailable)
 * reaches the new owner.
 */
export class BatchFencedError extends BatchFailedError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchFencedError';
  }
}

/**
 * PostgreSQL refused this one write for its own content (a data or constraint
 * error that the edge did not catch). The batch it was in was split until the
 * write stood alone, so everyone else's writes committed; only this one fails.
 */
export class BatchRowRefusedError extends Error {
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(`the database refused the write: ${reason}`, options);
    this.name = 'BatchRowRefusedError';
  }
}

/** Raised inside the writer when a batch failed for its content, not for the connection: it is split. */
class RowLevelFailure extends Error {
  constructor(cause: unknown) {
    super('a row of the batch was refused', { cause });
  }
}

interface PendingSend {
  request: SendRequest;
  resolve(outcome: SendOutcome): void;
  reject(error: Error): void;
  /** Kept across retries so a commit whose reply was lost is recognised as ours. */
  id: string;
  attachmentIds: string[];
  seq: number;
  sentAt: number;
}

interface PendingReceipt {
  request: ReceiptRequest;
  resolve(): void;
  reject(error: Error): void;
}

/** Writes of a batch still to commit. */
interface Remainder {
  sends: PendingSend[];
  receipts: PendingReceipt[];
}

export interface BatchWriterOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Most messages in one transaction. */
  maxBatch?: number;
  /** Attempts for a batch that failed on a connection or server error before giving up with unavailable. */
  maxAttempts?: number;
  /** Writes that may wait for the next transaction; past it `hasRoom` is false and callers push back. */
  maxQueued?: number;
}

export interface BatchWriterStats {
  batches: number;
  messages: number;
  deliveryStatuses: number;
  receipts: number;
  /** Batch attempts that failed, fenced ones included. */
  failedBatches: number;
  /** Batch attempts the ownership fence refused (some conversation of it had been claimed by another owner). */
  fencedBatches: number;
  lastBatchSize: number;
  commitMsTotal: number;
}

const UNIQUE_VIOLATION = '23505';
const SEQ_FENCE_CONSTRAINT = 'messages_conversation_id_seq_key';
const SEND_KEY_CONSTRAINT = 'messages_sender_id_client_random_key';

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

export class BatchWriter {
  readonly stats: BatchWriterStats = { batches: 0, messages: 0, deliveryStatuses: 0, receipts: 0, failedBatches: 0, fencedBatches: 0, lastBatchSize: 0, commitMsTotal: 0 };
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private readonly maxBatch: number;
  private readonly maxAttempts: number;
  private readonly maxQueued: number;
  private sends: PendingSend[] = [];
  private receipts: PendingReceipt[] = [];
  private inFlight = false;
  private scheduled = false;
  private client: pg.PoolClient | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(options: BatchWriterOptions) {
    const maxBatch = options.maxBatch ?? 2000;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError(`BatchWriter option maxBatch must be a positive integer, got ${maxBatch}`);
    const maxAttempts = options.maxAttempts ?? 4;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TypeError(`BatchWriter option maxAttempts must be a positive integer, got ${maxAttempts}`);
    const maxQueued = options.maxQueued ?? 10_000;
    if (!Number.isInteger(maxQueued) || maxQueued < 1) throw new TypeError(`BatchWriter option maxQueued must be a positive integer, got ${maxQueued}`);
    this.pool = options.pool;
    this.logger = options.logger;
    this.maxBatch = maxBatch;
    this.maxAttempts = maxAttempts;
    this.maxQueued = maxQueued;
  }

  /** Whether another write may be handed over now (the queue for the next transaction is under its bound). */
  get hasRoom(): boolean {
    return this.queued < this.maxQueued;
  }

  /** Number of writes waiting for the next transaction. */
  get queued(): number {
    return this.sends.length + this.receipts.length;
  }

  send(request: SendRequest): Promise<SendOutcome> {
    return new Promise<SendOutcome>((resolve, reject) => {
      this.sends.push({ request, resolve, reject, id: newId(), attachmentIds: request.attachments.map(() => newId()), seq: 0, sentAt: 0 });
      this.schedule();
    });
  }

  receipt(request: ReceiptRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.receipts.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    this.scheduled = true;
    // Let the rest of this turn's arrivals join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queued === 0) return;
    this.inFlight = true;
    const sends = this.sends.splice(0, this.maxBatch);
    const receipts = this.receipts.splice(0, this.maxBatch);
    try {
      await this.commitIsolating(sends, receipts);
    } finally {
      this.inFlight = false;
      if (this.queued > 0) this.schedule();
      else for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Commits the batch; if PostgreSQL refuses it for its content, splits it in
   * two and commits the halves in order (so each conversation's seqs still
   * commit in order), until the refused write stands alone and fails by itself.
   */
  private async commitIsolating(sends: PendingSend[], receipts: PendingReceipt[]): Promise<void> {
    let unfenced: Remainder | null;
    try {
      unfenced = await this.commitWithRetry(sends, receipts);
    } catch (err) {
      if (!(err instanceof RowLevelFailure)) throw err;
      const total = sends.length + receipts.length;
      if (total === 1) {
        const refused = new BatchRowRefusedError(reasonOf(err.cause), { cause: err.cause });
        this.logger.warn({ err: err.cause }, 'a write was refused by PostgreSQL; the rest of its batch committed');
        for (const s of sends) s.reject(refused);
        for (const r of receipts) r.reject(refused);
        return;
      }
      // Sends first, then receipts, as the batch had them; the first half commits first.
      const half = Math.ceil(total / 2);
      const firstSends = sends.slice(0, half);
      const firstReceipts = receipts.slice(0, Math.max(0, half - sends.length));
      await this.commitIsolating(firstSends, firstReceipts);
      await this.commitIsolating(sends.slice(half), receipts.slice(firstReceipts.length));
      return;
    }
    // The fence refused some conversations of the batch (their writes have failed);
    // the others' writes are a new batch, fenced again.
    if (unfenced) await this.commitIsolating(unfenced.sends, unfenced.receipts);
  }

  /** Commits the batch, retrying connection and server failures; returns what is left to commit after a fence refused part of it. */
  private async commitWithRetry(sends: PendingSend[], receipts: PendingReceipt[]): Promise<Remainder | null> {
    let precheck = false;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const started = performance.now();
      try {
        const outcomes = await this.attempt(sends, receipts, precheck);
        if (outcomes === 'conflict-seen') {
          precheck = true;
          attempt--; // not a failure: rebuild with the look-up
          continue;
        }
        this.stats.batches++;
        this.stats.lastBatchSize = sends.length + receipts.length;
        this.stats.commitMsTotal += performance.now() - started;
        for (const [pending, outcome] of outcomes) pending.resolve(outcome);
        for (const r of receipts) r.resolve();
        return null;
      } catch (err) {
        if (isFenced(err)) {
          // Not retried: the fence answers the same until the actor claims again, and
          // claiming again is the actor's decision (SeqCounter.fenced). The connection is fine.
          this.stats.failedBatches++;
          this.stats.fencedBatches++;
          return this.rejectFenced(err, sends, receipts);
        }
        if (isRowLevel(err)) {
          // The connection is fine; the content is not. Not retried as it stands: split.
          this.stats.failedBatches++;
          throw new RowLevelFailure(err);
        }
        lastError = err;
        this.stats.failedBatches++;
        this.dropClient(err);
        const counters = new Set<SeqCounter>([...sends.map((s) => s.request.counter), ...receipts.map((r) => r.request.counter)]);
        const fenced = isSeqFence(err);
        this.logger.warn({ err, attempt, sends: sends.length, receipts: receipts.length, fenced }, 'batch failed');
        if (fenced || attempt === this.maxAttempts) {
          for (const c of counters) c.invalidate();
          break;
        }
        // The commit may have happened before the connection broke: re-read the
        // committed seqs and look the sends up, so a committed one is recognised as ours.
        await this.reloadCounters(counters).catch((reloadErr: unknown) => {
          this.logger.warn({ err: reloadErr }, 'reloading seqs after a failed batch failed');
        });
        precheck = true;
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
    const error = new BatchFailedError('the batch could not be committed', { cause: lastError });
    for (const s of sends) s.reject(error);
    for (const r of receipts) r.reject(error);
    return null;
  }

  /** Fails the writes of the conversations a WF001 names (all of them if it names none) and returns the rest. */
  private rejectFenced(err: unknown, sends: PendingSend[], receipts: PendingReceipt[]): Remainder | null {
    let named = fencedConversations(err);
    // A WF001 that names none of this batch's conversations cannot be told apart: all of them are fenced
    // (committing "the rest" would then be the same batch again).
    if (named && ![...sends.map((s) => s.request.counter), ...receipts.map((r) => r.request.counter)].some((c) => named?.has(c.conversationId))) named = null;
    const isFencedHere = (counter: SeqCounter): boolean => named === null || named.has(counter.conversationId);
    const error = new BatchFencedError('another owner has claimed this conversation', { cause: err });
    const rest: Remainder = { sends: [], receipts: [] };
    const fenced = new Set<SeqCounter>();
    for (const s of sends) {
      if (!isFencedHere(s.request.counter)) rest.sends.push(s);
      else {
        fenced.add(s.request.counter);
        s.reject(error);
      }
    }
    for (const r of receipts) {
      if (!isFencedHere(r.request.counter)) rest.receipts.push(r);
      else {
        fenced.add(r.request.counter);
        r.reject(error);
      }
    }
    for (const c of fenced) c.fenced();
    this.logger.warn({ conversations: [...fenced].map((c) => c.conversationId), sends: sends.length - rest.sends.length, receipts: receipts.length - rest.receipts.length, others: rest.sends.length + rest.receipts.length }, 'batch fenced: another owner has claimed these conversations');
    return rest.sends.length + rest.receipts.length > 0 ? rest : null;
  }

  private async reloadCounters(counters: Set<SeqCounter>): Promise<void> {
    const ids = [...new Set([...counters].map((c) => c.conversationId))];
    const result = await this.pool.query<{ conversation_id: string; max_seq: number }>(
      `SELECT q.id AS conversation_id, COALESCE((SELECT max(seq) FROM messages WHERE conversation_id = q.id), 0)::int8 AS max_seq
         FROM unnest($1::uuid[]) AS q(id)`,
      [ids],
    );
    const bySeq = new Map(result.rows.map((r) => [r.conversation_id, r.max_seq]));
    for (const c of counters) {
      const seq = bySeq.get(c.conversationId) ?? 0;
      c.lastSeq = seq;
      c.committedSeq = seq;
    }
  }

  /**
   * Waits until every write handed over has been committed (or failed), then
   * gives the writer's connection back to its pool, so the pool can end. A write's
   * caller can hear its outcome a moment before the writer itself is idle.
   */
  async close(): Promise<void> {
    while (this.inFlight || this.queued > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.client?.release();
    this.client = null;
  }

  private dropClient(err: unknown): void {
    if (!this.client) return;
    this.client.release(err instanceof Error ? err : new Error(String(err)));
    this.client = null;
  }

  private async getClient(): Promise<pg.PoolClient> {
    this.client ??= await this.pool.connect();
    return this.client;
  }

  /**
   * One transaction. Returns the outcome of every send, or 'conflict-seen' when the
   * insert met an existing (sender_id, client_random) it was not told about.
   *
   * The fast path is one autocommit statement (batch-statements.ts says why); the
   * rebuild with the look-up runs statement by statement in a transaction.
   */
  private async attempt(sends: PendingSend[], receipts: PendingReceipt[], precheck: boolean): Promise<Map<PendingSend, SendOutcome> | 'conflict-seen'> {
    const client = await this.getClient();
    const outcomes = new Map<PendingSend, SendOutcome>();
    const original = new Map<SeqCounter, number>();
    const restore = (): void => {
      for (const [counter, seq] of original) counter.lastSeq = seq;
    };
    const assign = (fresh: PendingSend[]): void => {
      const now = Date.now();
      for (const s of fresh) {
        const counter = s.request.counter;
        if (!original.has(counter)) original.set(counter, counter.lastSeq);
        s.seq = ++counter.lastSeq;
        s.sentAt = now;
      }
    };

    const fence = fencePairs([...sends.map((s) => s.request.counter), ...receipts.map((r) => r.request.counter)]);
    let fresh: PendingSend[];
    let counts: BatchCounts;
    if (!precheck) {
      fresh = this.classify(sends, [], outcomes);
      assign(fresh);
      try {
        counts = await writeBatch(client, fresh, receipts.map((r) => r.request), fence);
      } catch (err) {
        restore();
        if (isUniqueViolation(err, SEND_KEY_CONSTRAINT)) return 'conflict-seen';
        throw err;
      }
    } else {
      await client.query('BEGIN');
      try {
        // First: the rows it locks stay locked until COMMIT, so no claim can slip in between.
        await checkFence(client, fence);
        const existing = await findExistingSends(client, sends.map((s) => ({ senderId: s.request.senderId, clientRandom: s.request.clientRandom })));
        fresh = this.classify(sends, existing, outcomes);
        assign(fresh);
        counts = await writeBatchStepByStep(client, fresh, receipts.map((r) => r.request));
        await client.query('COMMIT');
      } catch (err) {
        restore();
        await client.query('ROLLBACK').catch(() => undefined /* the connection is dropped by the caller */);
        throw err;
      }
    }

    for (const s of fresh) {
      outcomes.set(s, { kind: 'stored', id: s.id, seq: s.seq, sentAt: s.sentAt, attachmentIds: s.attachmentIds });
      if (s.seq > s.request.counter.committedSeq) s.request.counter.committedSeq = s.seq;
    }
    this.stats.messages += fresh.length;
    this.stats.deliveryStatuses += counts.deliveryStatuses;
    this.stats.receipts += receipts.length;
    this.resolveInBatchDuplicates(sends, outcomes);
    return outcomes;
  }

  /**
   * Sorts sends into: already stored (duplicate or conflict, from the look-up), a
   * repeat of an earlier send in this batch (resolved after commit), or fresh.
   */
  private classify(sends: PendingSend[], existing: ExistingSend[], outcomes: Map<PendingSend, SendOutcome>): PendingSend[] {
    const stored = new Map(existing.map((e) => [`${e.sender_id}:${e.client_random}`, e]));
    const firstInBatch = new Set<string>();
    const fresh: PendingSend[] = [];
    for (const s of sends) {
      const key = `${s.request.senderId}:${s.request.clientRandom}`;
      const prior = stored.get(key);
      if (prior) {
        if (prior.id === s.id) {
          // Our own earlier attempt committed before its connection failed.
          outcomes.set(s, { kind: 'stored', id: prior.id, seq: prior.seq, sentAt: prior.sent_at, attachmentIds: s.attachmentIds });
        } else if (prior.conversation_id === s.request.counter.conversationId && sameBytes(prior.content, s.request.content)) {
          outcomes.set(s, { kind: 'duplicate', id: prior.id, seq: prior.seq, sentAt: prior.sent_at });
        } else {
          outcomes.set(s, { kind: 'conflict', existingConversationId: prior.conversation_id });
        }
        continue;
      }
      if (firstInBatch.has(key)) continue; // resolved against the first one after commit
      firstInBatch.add(key);
      fresh.push(s);
    }
    return fresh;
  }

  private resolveInBatchDuplicates(sends: PendingSend[], outcomes: Map<PendingSend, SendOutcome>): void {
    const firsts = new Map<string, PendingSend>();
    for (const s of sends) {
      const key = `${s.request.senderId}:${s.request.clientRandom}`;
      const first = firsts.get(key);
      if (!first) {
        firsts.set(key, s);
        continue;
      }
      const firstOutcome = outcomes.get(first);
      if (outcomes.has(s) || !firstOutcome || firstOutcome.kind === 'conflict') {
        if (!outcomes.has(s)) outcomes.set(s, firstOutcome ?? { kind: 'conflict', existingConversationId: first.request.counter.conversationId });
        continue;
      }
      const same = first.request.counter.conversationId === s.request.counter.conversationId && sameBytes(first.request.content, s.request.content);
      outcomes.set(s, same ? { kind: 'duplicate', id: firstOutcome.id, seq: firstOutcome.seq, sentAt: firstOutcome.sentAt } : { kind: 'conflict', existingConversationId: first.request.counter.conversationId });
    }
  }
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  return (
    typeof err === 'object' && err !== null &&
    (err as { code?: unknown }).code === UNIQUE_VIOLATION &&
    (err as { constraint?: unknown }).constraint === constraint
  );
}

const isSeqFence = (err: unknown): boolean => isUniqueViolation(err, SEQ_FENCE_CONSTRAINT);

const sqlState = (err: unknown): string | null =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code)
    ? (err as { code: string }).code
    : null;

/**
 * Errors caused by what a row holds rather than by the connection or the server's
 * state: data exceptions (22), integrity violations (23) other than the seq fence
 * and the send key (handled before), and program limits such as an index row too
 * large (54). PostgreSQL gives the same answer however often they are retried.
 */
export function isRowLevel(err: unknown): boolean {
  const code = sqlState(err);
  if (code === null || isSeqFence(err) || isUniqueViolation(err, SEND_KEY_CONSTRAINT)) return false;
  return code.startsWith('22') || code.startsWith('23') || code.startsWith('54');
}

/** What to tell the client: the SQLSTATE and PostgreSQL's one-line message (its own data, no internals beyond that). */
export function reasonOf(err: unknown): string {
  const code = sqlState(err) ?? 'unknown';
  const message = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : String(err);
  return `${message} (SQLSTATE ${code})`;
}
