/**
 * Where an event goes, and who gets a message queued (DESIGN.md "Hot path",
 * "The cluster"; seed §3.2.1, §3.2.3). Every event of the shard passes here:
 *
 * - the node's own connections of the recipients get it from the main thread,
 *   which knows them (no look-up needed);
 * - recipients connected to other nodes are found in presence (store/presence.ts:
 *   a field per node), and the event is handed to the outbox with, per
 *   destination node, the users there: the main thread sends one batch per node;
 * - a committed message is queued for recipients connected nowhere, before the
 *   event is published. The gateway records a connecting user's presence only
 *   after it started collecting their events, so a user is either seen here (and
 *   gets the live event) or finds the message queued, never neither.
 *
 * A committed message also makes a notification job (jobs/notification-job.ts)
 * naming its recipients who were connected nowhere and have not muted the
 * conversation (the actor says who may be notified): known here, after the
 * queue write, at no extra Redis read; added as one bulk per turn, not awaited.
 *
 * Work is batched per turn: one presence read for every event of the turn, one
 * queue write, recipients de-duplicated. Order is kept: each turn's batch waits
 * for the previous one. On a single node only message recipients are looked up
 * (nobody can be elsewhere).
 *
 * The backlog is bounded: while more than `maxBacklog` events wait, `saturated`
 * is true and the actors refuse new writes (rate_limited) instead of letting it
 * grow (DESIGN.md invariant 6). A Redis failure is retried a few times; after
 * that the event still reaches the node's own connections, and the log says
 * exactly which members may have missed which message: their clients see the seq
 * gap and recover it with sync.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NotificationDraft, NotificationProducer } from '@whispr/jobs';
import { encodeFrame, type Message } from '@whispr/protocol';
import {
  acknowledgeQueued, DEFAULT_QUEUE_CAP, dropQueued, enqueueIfOffline, PresenceReader, queueMember, type DeliveryLatencyRecorder, type RedisKeys, type UserNodes,
} from '@whispr/store';
import type { ClusterView } from './cluster-view.ts';
import type { Outbox } from './outbox.ts';

interface PendingEvent {
  /** Every recipient. */
  users: string[];
  frame: unknown;
  conversationId: string | null;
  seq: number;
  /** Recipients to queue the event for when they are connected nowhere (msg.new). */
  queueFor: string[];
  /** The frame as JSON, made once if the queue or the wire needs it. */
  json: Uint8Array | null;
  /** For msg.new: the notification to make for offline recipients among `to`. */
  /** A committed message whose offline recipients `allows` lets a notification name (msg.new only). */
  notify: { message: Message; allows: (userId: string) => boolean } | null;
  /** Messages this event changes (edit, delete for everyone, retention): their queued copies go (offline-queue.ts dropQueued). */
  changes: { conversationId: string; fromSeq: number; toSeq: number } | null;
  /** A message's sent_at, for the delivery latency (msg.new only). */
  sentAt?: number;
}

export interface FanoutOptions {
  redis: Redis;
  keys: RedisKeys;
  outbox: Outbox;
  logger: Logger;
  /** This node and its incarnation; with the live nodes of `view`. */
  nodeId: string;
  incarnation: string;
  view: ClusterView;
  /** How long to wait for Redis before publishing without queueing. */
  redisTimeoutMs?: number;
  /** Events that may wait for delivery before writes are refused. */
  maxBacklog?: number;
  /** Attempts at the presence look-up and queue write before giving up on them. */
  attempts?: number;
  /** Entries one user's offline queue may hold (docs/protocol.md); later ones are reached with sync. */
  queueCap?: number;
  /** Where notification jobs go; absent: none are made. */
  notifications?: NotificationProducer | null;
}

/** Retry pause between failed attempts at Redis (doubling). */
const RETRY_BASE_MS = 50;

export class Fanout {
  private readonly options: Required<Omit<FanoutOptions, 'notifications'>>;
  private readonly notifications: NotificationProducer | null;
  private readonly presence: PresenceReader;
  private pending: PendingEvent[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  /** Events handed over and not yet published. */
  private backlog = 0;
  /** Messages whose offline queueing was given up on (for metrics). */
  lostQueueWrites = 0;
  /** Where each msg.new's delivery latency is counted (store/delivery-latency.ts), if anywhere. */
  latency: DeliveryLatencyRecorder | null = null;

  constructor(options: FanoutOptions) {
    const { notifications = null, ...rest } = options;
    this.options = { redisTimeoutMs: 3000, maxBacklog: 20_000, attempts: 3, queueCap: DEFAULT_QUEUE_CAP, ...rest };
    this.notifications = notifications;
    this.presence = new PresenceReader(options.redis, options.keys);
  }

  /** Whether the delivery backlog is over its bound: new writes are refused until it drains. */
  get saturated(): boolean {
    return this.backlog >= this.options.maxBacklog;
  }

  /**
   * A committed message: queue it for offline recipients, then publish msg.new to
   * every member; the offline recipients `notifiable` allows (members who have
   * not muted the conversation) get a notification job.
   */
  messageCommitted(message: Message, members: string[], senderId: string, notifiable: ((userId: string) => boolean) | null = null): void {
    const notify = notifiable && this.notifications ? { message, allows: notifiable } : null;
    this.push({
      users: members, frame: { ev: 'msg.new', message }, conversationId: message.conversation_id, seq: message.seq,
      queueFor: members.filter((u) => u !== senderId), json: null, notify, changes: null, sentAt: message.sent_at,
    });
  }

  /** Any other event to these users, wherever they are connected. */
  event(users: string[], frame: unknown): void {
    this.push({ users, frame, conversationId: null, seq: 0, queueFor: [], json: null, notify: null, changes: null });
  }

  /**
   * An event that changes a committed message (msg.edited, msg.deleted for
   * everyone): published like any other, and the message's copies waiting in
   * these users' offline queues are removed in the same turn, after that turn's
   * queue writes (batches run in order, so a copy queued before is dropped).
   */
  messageChanged(users: string[], frame: unknown, conversationId: string, seq: number): void {
    this.messagesChanged(users, [frame], conversationId, seq, seq);
  }

  /**
   * Events that change the committed messages fromSeq..toSeq (retention's
   * msg.deleted for a batch of tombstones): published in order, and every queued
   * copy in that range leaves these users' queues with one command per user. A
   * message of the range that did not change loses only its queued copy: the
   * client fetches it with sync, the seq gap telling it to.
   */
  messagesChanged(users: string[], frames: readonly unknown[], conversationId: string, fromSeq: number, toSeq: number): void {
    frames.forEach((frame, i) => {
      const changes = i === frames.length - 1 ? { conversationId, fromSeq, toSeq } : null;
      this.push({ users, frame, conversationId: null, seq: 0, queueFor: [], json: null, notify: null, changes });
    });
  }

  private push(event: PendingEvent): void {
    this.backlog++;
    this.pending.push(event);
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

  private liveNodes(): Map<string, string> {
    const live = new Map(this.options.view.liveNodes());
    // Always counted live here: this node's own connections are on this node.
    live.set(this.options.nodeId, this.options.incarnation);
    return live;
  }

  private async deliver(batch: PendingEvent[]): Promise<void> {
    const { outbox, logger, nodeId } = this.options;
    const live = this.liveNodes();
    const clustered = live.size > 1;
    let where: UserNodes | null = null;
    try {
      where = await this.withRetries(() => this.locateAndQueue(batch, live, clustered));
      this.notifyOffline(batch, where);
    } catch (err) {
      // Committed, but possibly not queued for offline members nor sent to other nodes:
      // say exactly who may have missed what. Their clients see the seq gap and sync.
      const messages = batch.filter((e) => e.queueFor.length > 0);
      this.lostQueueWrites += messages.length;
      const missed = messages.map((e) => ({ conversation: e.conversationId, seq: e.seq, users: e.queueFor }));
      logger.error({ err, attempts: this.options.attempts, missed, events: batch.length }, 'presence or offline queue unavailable; delivered to this node’s connections only (others recover with sync)');
    }
    const now = Date.now();
    for (const e of batch) {
      const remote = where && clustered ? remoteTargets(e.users, where, nodeId) : [];
      outbox.event(e.users, e.frame, e.conversationId, e.seq, e.json ?? undefined, remote);
      if (e.sentAt !== undefined) this.latency?.record(now - e.sentAt);
    }
  }

  /** One notification per message for its notifiable recipients found connected nowhere (after the queue write's own check). */
  private notifyOffline(batch: PendingEvent[], where: UserNodes): void {
    if (!this.notifications) return;
    const drafts: NotificationDraft[] = [];
    for (const e of batch) {
      if (!e.notify) continue;
      const { message, allows } = e.notify;
      const recipients = e.queueFor.filter((u) => (where.get(u)?.length ?? 0) === 0 && allows(u));
      if (recipients.length === 0) continue;
      drafts.push({
        conversation_id: message.conversation_id, message_id: message.id, seq: message.seq, sender_id: message.sender_id,
        sent_at: message.sent_at, message_type: message.type, recipients,
      });
    }
    if (drafts.length > 0) this.notifications.notify(drafts);
  }

  private async withRetries<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (attempt >= this.options.attempts) throw err;
        await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Reads where the batch's recipients are (one pipeline, de-duplicated), then
   * queues each message for the recipients who looked connected nowhere, with a
   * script that checks again and queues in one atomic step (offline-queue.ts):
   * one that connected meanwhile is reported where it is instead, and gets the
   * event live. Returns where everyone is.
   */
  private async locateAndQueue(batch: PendingEvent[], live: ReadonlyMap<string, string>, clustered: boolean): Promise<UserNodes> {
    const { redis, keys, redisTimeoutMs, queueCap } = this.options;
    const users = new Set<string>();
    for (const e of batch) for (const u of clustered ? e.users : e.queueFor) users.add(u);
    const where = await withTimeout(this.presence.nodesOf([...users], live), redisTimeoutMs, 'presence look-up');
    const queue = redis.pipeline();
    const asked: string[] = [];
    for (const e of batch) {
      const offline = e.queueFor.filter((u) => (where.get(u)?.length ?? 0) === 0);
      if (offline.length === 0) continue;
      e.json ??= encodeFrame(e.frame, 'json');
      const member = queueMember(e.conversationId ?? '', e.seq, Buffer.from(e.json.buffer, e.json.byteOffset, e.json.byteLength).toString('utf8'));
      for (const u of offline) {
        enqueueIfOffline(queue, keys, u, member, live, queueCap);
        asked.push(u);
      }
    }
    if (asked.length > 0) {
      const results = (await withTimeout(queue.exec(), redisTimeoutMs, 'offline queue write')) ?? [];
      results.forEach(([err, nodes], i) => {
        if (err) throw err;
        const user = asked[i];
        // Connected after the read: that is where it goes now.
        if (user !== undefined && Array.isArray(nodes) && nodes.length > 0) where.set(user, nodes.filter((n): n is string => typeof n === 'string'));
      });
    }
    const changed = batch.filter((e) => e.changes !== null);
    if (changed.length > 0) {
      const drops = redis.pipeline();
      for (const e of changed) if (e.changes) for (const u of e.users) dropQueued(drops, keys, u, e.changes.conversationId, e.changes.fromSeq, e.changes.toSeq);
      const results = (await withTimeout(drops.exec(), redisTimeoutMs, 'offline queue clean-up')) ?? [];
      for (const [err] of results) if (err) throw err;
    }
    return where;
  }
}

/** Per other node, the recipients connected there. */
function remoteTargets(users: readonly string[], where: UserNodes, self: string): { node: string; users: string[] }[] {
  const byNode = new Map<string, string[]>();
  for (const u of users) {
    for (const node of where.get(u) ?? []) {
      if (node === self) continue;
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(u);
    }
  }
  return [...byNode].map(([node, list]) => ({ node, users: list }));
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
