/**
 * After a commit: queue the message for recipients with no open connection
 * (Redis presence, seed §3.2.1/§3.2.3), then hand the event to the outbox.
 *
 * The queue write happens before the event is published. The gateway marks a
 * connecting user present only after it has started collecting their events, so
 * a user either is seen present here (and gets the live event) or gets the
 * message queued — never neither.
 *
 * Work is batched per turn: one Redis pipeline for every message committed in
 * the turn, recipients de-duplicated. Order is kept: each turn's batch waits for
 * the previous one. The backlog is bounded: while more than `maxBacklog` committed
 * messages wait for delivery, `saturated` is true and the actors refuse new writes
 * (rate_limited) instead of letting it grow (DESIGN.md invariant 6).
 *
 * A Redis failure is retried a few times; a message that still could not be
 * queued for offline members is logged with exactly who missed it (they recover
 * it with sync: the seq gap tells their client), and counted.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { encodeFrame, type Message } from '@whispr/protocol';
import { acknowledgeQueued, DEFAULT_QUEUE_CAP, enqueueOffline, queueMember, type RedisKeys } from '@whispr/store';
import type { Outbox } from './outbox.ts';

interface PendingMessage {
  message: Message;
  /** Every active member (the sender included). */
  members: string[];
  /** Members who may need it queued (everyone but the sender). */
  recipients: string[];
}

interface Encoded {
  p: PendingMessage;
  event: { ev: 'msg.new'; message: Message };
  json: Uint8Array | null;
}

export interface FanoutOptions {
  redis: Redis;
  keys: RedisKeys;
  outbox: Outbox;
  logger: Logger;
  /** How long to wait for Redis before publishing without queueing. */
  redisTimeoutMs?: number;
  /** Committed messages that may wait for delivery before writes are refused. */
  maxBacklog?: number;
  /** Attempts at the presence look-up and queue write before giving up on the offline queue. */
  attempts?: number;
  /** Entries one user's offline queue may hold (docs/protocol.md); later ones are reached with sync. */
  queueCap?: number;
}

/** Retry pause between failed attempts at Redis (doubling). */
const RETRY_BASE_MS = 50;

export class Fanout {
  private readonly options: Required<FanoutOptions>;
  private pending: PendingMessage[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  /** Committed messages handed over and not yet published. */
  private backlog = 0;
  /** Messages whose offline queueing was given up on (for metrics). */
  lostQueueWrites = 0;

  constructor(options: FanoutOptions) {
    this.options = { redisTimeoutMs: 1000, maxBacklog: 20_000, attempts: 3, queueCap: DEFAULT_QUEUE_CAP, ...options };
  }

  /** Whether the delivery backlog is over its bound: new writes are refused until it drains. */
  get saturated(): boolean {
    return this.backlog >= this.options.maxBacklog;
  }

  /** A committed message: queue it for offline recipients, then publish msg.new to every member. */
  messageCommitted(message: Message, members: string[], senderId: string): void {
    this.backlog++;
    this.pending.push({ message, members, recipients: members.filter((u) => u !== senderId) });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.pending;
      this.pending = [];
      this.chain = this.chain.then(() => this.deliver(batch)).finally(() => {
        this.backlog -= batch.length;
      });
    });
  }

  /** The user has the conversation's messages up to seq: they leave the user's offline queue. */
  async acknowledge(userId: string, conversationId: string, upToSeq: number): Promise<void> {
    const pipeline = this.options.redis.pipeline();
    acknowledgeQueued(pipeline, this.options.keys, userId, conversationId, upToSeq);
    const results = await withTimeout(pipeline.exec(), this.options.redisTimeoutMs, 'offline queue acknowledgement');
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  private async deliver(batch: PendingMessage[]): Promise<void> {
    const { outbox, logger } = this.options;
    // JSON at most once per message: it is both the queued entry and the JSON wire frame,
    // and is made only when one of the two needs it.
    const encoded: Encoded[] = batch.map((p) => ({ p, event: { ev: 'msg.new', message: p.message }, json: null }));
    const { attempts } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queueForOffline(encoded);
        break;
      } catch (err) {
        if (attempt < attempts) {
          await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
          continue;
        }
        // Committed, but possibly not queued for offline members: say exactly who may have
        // missed what. Their clients see the seq gap and recover it with sync.
        this.lostQueueWrites += batch.length;
        const missed = batch.map((p) => ({ conversation: p.message.conversation_id, seq: p.message.seq, users: p.recipients }));
        logger.error({ err, attempts, missed }, 'offline queue write failed; published live only (offline members recover these with sync)');
        break;
      }
    }
    for (const e of encoded) outbox.event(e.p.members, e.event, e.p.message.conversation_id, e.p.message.seq, e.json ?? undefined);
  }

  private async queueForOffline(encoded: Encoded[]): Promise<void> {
    const { redis, keys, redisTimeoutMs } = this.options;
    const users = [...new Set(encoded.flatMap((e) => e.p.recipients))];
    if (users.length === 0) return;
    const presence = redis.pipeline();
    for (const u of users) presence.hget(keys.presenceUser(u), 'connections');
    const answers = await withTimeout(presence.exec(), redisTimeoutMs, 'presence look-up');
    const offline = new Set<string>();
    users.forEach((u, i) => {
      const [err, value] = answers?.[i] ?? [null, null];
      if (err) throw err;
      if (!(Number(value) > 0)) offline.add(u);
    });
    if (offline.size === 0) return;
    const queue = redis.pipeline();
    for (const e of encoded) {
      const { p } = e;
      if (!p.recipients.some((u) => offline.has(u))) continue;
      e.json ??= encodeFrame(e.event, 'json');
      const member = queueMember(p.message.conversation_id, p.message.seq, Buffer.from(e.json.buffer, e.json.byteOffset, e.json.byteLength).toString('utf8'));
      for (const u of p.recipients) if (offline.has(u)) enqueueOffline(queue, keys, u, member, this.options.queueCap);
    }
    const results = await withTimeout(queue.exec(), redisTimeoutMs, 'offline queue write');
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
