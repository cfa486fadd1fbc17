/**
 * Cluster membership as this node sees it (DESIGN.md "The cluster",
 * "Membership"): it heartbeats this node into the registry, follows the live
 * nodes, and builds the ring from their slots, so every node computes the same
 * ring from the same registry. A node whose heartbeat lapses for the grace is
 * dropped by everyone.
 *
 * It also says whether this node may serve its slots: only while its own
 * heartbeat is fresh, that is, until `lease` (the last heartbeat that reached
 * Redis plus the grace, minus a margin) and while it sees itself in the ring. A
 * node that cannot reach Redis, or was paused past its grace, stops serving
 * before the others may take its slots (they drop it only after the whole
 * grace); PostgreSQL fences whatever it still tries to write (ownership epochs).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { HashRing } from './hash-ring.ts';
import type { NodeInfo } from './registry.ts';
import type { RedisNodeRegistry } from './registry-redis.ts';

export interface MembershipEvents {
  /** The ring changed (nodes joined or left); `generation` counts the changes seen by this node. */
  ring: [ring: HashRing, nodes: readonly NodeInfo[], generation: number];
  /** This node started or stopped serving its slots. */
  serving: [serving: boolean];
}

export interface MembershipOptions {
  registry: RedisNodeRegistry;
  self: Omit<NodeInfo, 'lastHeartbeat'>;
  /** A node silent this long is dropped from the ring (WHISPR_NODE_GRACE_MS). */
  graceMs: number;
  logger: Logger;
  /** How often the live nodes are read (default a sixth of the grace, at most 500 ms). */
  pollMs?: number;
}

export class Membership extends EventEmitter<MembershipEvents> {
  private ring = new HashRing([]);
  private nodes: readonly NodeInfo[] = [];
  private nodeOfSlot = new Map<string, string>();
  private generation = 0;
  private selfListed = false;
  private servingNow = false;
  private leaving = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly pollMs: number;
  private readonly marginMs: number;

  constructor(private readonly o: MembershipOptions) {
    super();
    if (!Number.isInteger(o.graceMs) || o.graceMs < 300) throw new TypeError(`Membership option graceMs must be an integer of at least 300, got ${o.graceMs}`);
    this.pollMs = o.pollMs ?? Math.min(500, Math.floor(o.graceMs / 6));
    if (!(this.pollMs > 0)) throw new TypeError(`Membership option pollMs must be positive, got ${this.pollMs}`);
    // Stop serving a third of the grace before the others may take over.
    this.marginMs = Math.floor(o.graceMs / 3);
  }

  get nodeId(): string {
    return this.o.self.nodeId;
  }

  get currentRing(): HashRing {
    return this.ring;
  }

  get liveNodes(): readonly NodeInfo[] {
    return this.nodes;
  }

  get ringGeneration(): number {
    return this.generation;
  }

  /** Until when this node may serve (ms since the epoch): its last heartbeat plus the grace, minus the margin. */
  get lease(): number {
    return this.o.registry.lastBeatOk === 0 ? 0 : this.o.registry.lastBeatOk + this.o.graceMs - this.marginMs;
  }

  /** Whether this node may serve its slots now. */
  get serving(): boolean {
    return this.selfListed && Date.now() < this.lease;
  }

  /** The node hosting a slot of the ring. */
  nodeOf(slot: string): string | undefined {
    return this.nodeOfSlot.get(slot);
  }

  /** Registers this node, reads the ring once, then keeps both up to date. */
  async start(): Promise<void> {
    await this.o.registry.register(this.o.self);
    await this.poll();
    this.timer = setInterval(() => {
      this.poll().catch((err: unknown) => {
        this.o.logger.warn({ err }, 'reading the cluster’s live nodes failed');
        this.checkServing();
      });
    }, this.pollMs);
    this.timer.unref();
  }

  /** Reads the live nodes now (also the cue after a Redis reconnect, with a heartbeat first). */
  async refresh(): Promise<void> {
    await this.o.registry.beat();
    await this.poll();
  }

  private async poll(): Promise<void> {
    const nodes = await this.o.registry.liveNodes();
    const next = new HashRing(nodes.flatMap((n) => n.slots));
    this.selfListed = nodes.some((n) => n.nodeId === this.nodeId && n.incarnation === this.o.self.incarnation);
    const changed = !next.sameAs(this.ring);
    this.nodes = nodes;
    if (changed) {
      this.ring = next;
      this.nodeOfSlot = new Map(nodes.flatMap((n) => n.slots.map((slot): [string, string] => [slot, n.nodeId])));
      this.generation++;
      this.o.logger.info({ generation: this.generation, nodes: nodes.map((n) => n.nodeId), slots: next.slots.length }, 'ring changed');
      this.emit('ring', next, nodes, this.generation);
    }
    this.checkServing();
  }

  private checkServing(): void {
    const serving = this.serving;
    if (serving === this.servingNow) return;
    this.servingNow = serving;
    if (serving) this.o.logger.info('serving this node’s slots');
    else if (this.leaving) this.o.logger.info('left the ring: no longer serving this node’s slots');
    else this.o.logger.warn({ lastHeartbeat: this.o.registry.lastBeatOk, graceMs: this.o.graceMs }, 'not serving: this node’s heartbeat is not fresh or it is not in the ring');
    this.emit('serving', serving);
  }

  /** Stops polling and leaves the registry (others drop this node from their ring at their next poll). */
  async leave(): Promise<void> {
    this.leaving = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.o.registry.deregister();
    this.selfListed = false;
    this.checkServing();
  }
}
