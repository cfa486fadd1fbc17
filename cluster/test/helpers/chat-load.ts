/**
 * A small, steady chat load for the failover tests, behaving as PROTOCOL.md asks
 * a client to: every send keeps its client_random across retries; `unavailable`,
 * `rate_limited` and timeouts are retried; a connection that dies, or a node that
 * stops answering, is replaced by a connection to another node, and a receiver
 * that reconnects catches up with `sync`.
 *
 * Senders S0..S(s-1) and receivers R0..R(r-1); every (Si, Rj) pair has its own
 * direct conversation, so conversations land on every node of the ring, and each
 * conversation has its own send loop (one send in flight, a pause after each
 * ack), so a conversation waiting for its new owner holds up no other.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { directConversationId } from '@whispr/store';
import { WhisprConnectionClosedError, WhisprRequestError, WhisprTimeoutError, type WhisprClient } from '@whispr/client';
import type { ProcessCluster } from './process-cluster.ts';

export interface AckRecord {
  conversationId: string;
  senderId: string;
  clientRandom: number;
  id: string;
  seq: number;
  duplicate: boolean;
  /** When the first attempt was made, and when the ack arrived (ms since the epoch). */
  startedAt: number;
  ackedAt: number;
  attempts: number;
}

export interface LoadCounters {
  unavailable: number;
  rateLimited: number;
  timeouts: number;
  closed: number;
  reconnects: number;
}

/** A user's connection that moves to another node when the one it is on fails. */
export class Link {
  private client: WhisprClient | null = null;
  private connecting: Promise<WhisprClient> | null = null;
  /** Nodes tried in turn after a failure, starting after the current one. */
  node: number;
  /** Times this link had to connect again after its first connection. */
  reconnects = 0;
  private connectedOnce = false;

  constructor(
    private readonly cluster: ProcessCluster,
    readonly userId: string,
    node: number,
    private readonly onConnect: (client: WhisprClient, again: boolean) => Promise<void> | void = () => undefined,
    private readonly isStopping: () => boolean = () => false,
    /** Close codes seen, counted (1001: the node stopped; 1006: it died). */
    private readonly closeCodes: Map<number, number> = new Map(),
  ) {
    this.node = node;
  }

  /** The open connection, connecting (to this node, else the next ones) when there is none. */
  get(): Promise<WhisprClient> {
    if (this.client?.isOpen) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** This connection's node stopped answering: drop it (unawaited: a paused node never answers the close). */
  abandon(client: WhisprClient): void {
    if (this.client !== client) return;
    this.client = null;
    this.node = (this.node + 1) % this.cluster.nodes.length;
    void client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    // Bounded: a connection to a node that was paused would wait for ws's own 30 s.
    if (client) await Promise.race([client.close().catch(() => undefined), sleep(2000, undefined, { ref: false })]);
  }

  private async connect(): Promise<WhisprClient> {
    for (let attempt = 0; ; attempt++) {
      const node = this.cluster.nodes[this.node];
      if (node?.running) {
        try {
          const client = await this.cluster.connect(this.userId, this.node);
          const again = this.connectedOnce;
          if (again) this.reconnects++;
          this.connectedOnce = true;
          this.client = client;
          client.on('close', (info) => {
            this.closeCodes.set(info.code, (this.closeCodes.get(info.code) ?? 0) + 1);
            if (this.client === client) this.client = null;
          });
          await this.onConnect(client, again);
          return client;
        } catch {
          // Dead, paused, not listening yet: the next node.
        }
      }
      if (this.isStopping() && attempt > this.cluster.nodes.length * 4) throw new Error(`${this.userId}: no node to connect to`);
      this.node = (this.node + 1) % this.cluster.nodes.length;
      await sleep(attempt < this.cluster.nodes.length ? 0 : 200);
    }
  }
}

/** A member who only reads: events as they come, `sync` after every reconnect, and at the end. */
export class Receiver {
  readonly link: Link;
  /** Per conversation: the seqs seen, and how many of them came from sync rather than events. */
  readonly seen = new Map<string, Set<number>>();
  fromSync = 0;

  constructor(cluster: ProcessCluster, readonly userId: string, node: number, readonly conversations: string[], isStopping: () => boolean, closeCodes?: Map<number, number>) {
    for (const c of conversations) this.seen.set(c, new Set());
    this.link = new Link(cluster, userId, node, async (client, again) => {
      client.on('msg.new', (ev) => this.seen.get(ev.message.conversation_id)?.add(ev.message.seq));
      // Reconnect at once (events are only heard on an open connection), then catch up.
      client.on('close', () => {
        if (!isStopping()) void this.link.get().catch(() => undefined);
      });
      if (again) await this.catchUp(client);
    }, isStopping, closeCodes);
  }

  /** The highest seq below which nothing is missing. */
  contiguous(conversationId: string): number {
    const seqs = this.seen.get(conversationId) ?? new Set();
    let n = 0;
    while (seqs.has(n + 1)) n++;
    return n;
  }

  /** `sync` from the first hole of every conversation until each says complete. */
  async catchUp(client?: WhisprClient): Promise<void> {
    const c = client ?? (await this.link.get());
    for (const id of this.conversations) {
      for (;;) {
        const reply = await c.sync([{ conversation_id: id, after_seq: this.contiguous(id) }]);
        const got = reply.conversations[0];
        const seqs = this.seen.get(id);
        for (const m of got?.messages ?? []) {
          if (seqs && !seqs.has(m.seq)) {
            seqs.add(m.seq);
            this.fromSync++;
          }
        }
        if (!got || got.complete || got.messages.length === 0) break;
      }
    }
  }
}

export interface ChatLoadOptions {
  senders: number;
  receivers: number;
  /** Pause after each ack, per conversation. */
  pauseMs: number;
  /** Nodes the clients start on, in turn (default every node). */
  homeNodes?: number[];
}

export class ChatLoad {
  readonly acks: AckRecord[] = [];
  readonly counters: LoadCounters = { unavailable: 0, rateLimited: 0, timeouts: 0, closed: 0, reconnects: 0 };
  readonly failures: string[] = [];
  /** When each `unavailable` answer came (ms since the epoch). */
  readonly unavailableAt: number[] = [];
  /** Close codes the clients saw, counted (connections the test closes included). */
  readonly closeCodes = new Map<number, number>();
  readonly conversations: { id: string; sender: Link; receiver: Receiver }[] = [];
  readonly senders: Link[] = [];
  readonly receivers: Receiver[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private nextRandom = new Map<Link, number>();

  private constructor(private readonly cluster: ProcessCluster, private readonly o: ChatLoadOptions) {}

  /** Connects everyone and creates the conversations; `start` begins sending. */
  static async create(cluster: ProcessCluster, o: ChatLoadOptions): Promise<ChatLoad> {
    const load = new ChatLoad(cluster, o);
    const homes = o.homeNodes ?? cluster.nodes.map((_, i) => i);
    const home = (i: number): number => homes[i % homes.length] ?? 0;
    const senderIds = Array.from({ length: o.senders }, () => randomUUID());
    const receiverIds = Array.from({ length: o.receivers }, () => randomUUID());
    const stopping = (): boolean => load.stopping;
    for (const [i, id] of senderIds.entries()) {
      const link = new Link(cluster, id, home(i), undefined, stopping, load.closeCodes);
      load.senders.push(link);
      // Unique per sender forever ((sender_id, client_random) is): a random start, then +1.
      load.nextRandom.set(link, 1 + Math.floor(Math.random() * 2 ** 30));
    }
    for (const [j, id] of receiverIds.entries()) {
      load.receivers.push(new Receiver(cluster, id, home(j + 1), senderIds.map((s) => directConversationId(s, id)), stopping, load.closeCodes));
    }
    await Promise.all([...load.senders.map((s) => s.get()), ...load.receivers.map((r) => r.link.get())]);
    for (const sender of load.senders) {
      const client = await sender.get();
      for (const receiver of load.receivers) {
        const { conversation } = await client.direct(receiver.userId);
        load.conversations.push({ id: conversation.id, sender, receiver });
      }
    }
    return load;
  }

  start(): void {
    this.loops = this.conversations.map((c) => this.loop(c.id, c.sender).catch((err: unknown) => {
      this.failures.push(`${c.id}: ${err instanceof Error ? err.message : String(err)}`);
    }));
  }

  /** Stops starting sends; every send begun is retried until acknowledged (or `deadlineMs` passes). */
  async stop(deadlineMs = 30_000): Promise<void> {
    this.stopping = true;
    const all = Promise.all(this.loops);
    const timedOut = await Promise.race([all.then(() => false), sleep(deadlineMs, undefined, { ref: false }).then(() => true)]);
    if (timedOut) this.failures.push(`sends still unacknowledged ${deadlineMs} ms after the load stopped`);
    this.counters.reconnects = [...this.senders, ...this.receivers.map((r) => r.link)].reduce((n, l) => n + l.reconnects, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.senders.map((s) => s.close()), ...this.receivers.map((r) => r.link.close())]);
  }

  /** Acks of one conversation, in the order they arrived. */
  acksOf(conversationId: string): AckRecord[] {
    return this.acks.filter((a) => a.conversationId === conversationId);
  }

  private async loop(conversationId: string, sender: Link): Promise<void> {
    while (!this.stopping) {
      const clientRandom = this.nextRandom.get(sender) ?? 1;
      this.nextRandom.set(sender, clientRandom + 1);
      await this.sendUntilAcked(conversationId, sender, clientRandom);
      await sleep(this.o.pauseMs);
    }
  }

  /** One message: the same client_random (and content) on every attempt, on whichever node the link is on. */
  private async sendUntilAcked(conversationId: string, sender: Link, clientRandom: number): Promise<void> {
    const startedAt = Date.now();
    for (let attempts = 1; ; attempts++) {
      const client = await sender.get();
      try {
        const r = await client.send(conversationId, { content: `m${clientRandom}`, clientRandom });
        this.acks.push({
          conversationId, senderId: sender.userId, clientRandom, id: r.message.id, seq: r.message.seq,
          duplicate: r.duplicate === true, startedAt, ackedAt: Date.now(), attempts,
        });
        return;
      } catch (err) {
        if (err instanceof WhisprRequestError && err.code === 'unavailable') {
          this.counters.unavailable++;
          this.unavailableAt.push(Date.now());
          await sleep(100);
        } else if (err instanceof WhisprRequestError && err.code === 'rate_limited') {
          this.counters.rateLimited++;
          await sleep(err.retryAfterMs ?? 100);
        } else if (err instanceof WhisprTimeoutError) {
          // The node holds the request and says nothing (paused, or dead without a close): go elsewhere.
          this.counters.timeouts++;
          sender.abandon(client);
        } else if (err instanceof WhisprConnectionClosedError) {
          this.counters.closed++;
          sender.abandon(client);
        } else {
          throw err;
        }
      }
    }
  }
}
