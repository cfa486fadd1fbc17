/**
 * ShardRouting for the gateway: the ring over every live node's slots, and this
 * node's own shards. A key whose owner is another node answers null (the gateway
 * replies `unavailable`, safe to retry) until node-to-node forwarding exists.
 *
 * The ring is recomputed from the registry on every poll; a change is logged and
 * takes effect at once for new frames.
 */
import type { Logger } from 'pino';
import type { Shard } from '@whispr/actors';
import type { ShardRouting } from '@whispr/gateway';
import { HashRing } from './hash-ring.ts';
import type { NodeRegistry } from './registry.ts';

export class RingRouting implements ShardRouting {
  readonly shards: readonly Shard[];
  private readonly bySlot: Map<string, Shard>;
  private ring: HashRing = new HashRing([]);
  private timer: NodeJS.Timeout | null = null;

  constructor(shards: Shard[], private readonly registry: NodeRegistry, private readonly logger: Logger) {
    this.shards = shards;
    this.bySlot = new Map(shards.map((s) => [s.slot, s]));
  }

  shardFor(key: string): Shard | null {
    const slot = this.ring.ownerOf(key);
    return slot === null ? null : (this.bySlot.get(slot) ?? null);
  }

  /** True when every local slot is in the ring. */
  ownsItsSlots(): boolean {
    return this.shards.every((s) => this.ring.slots.includes(s.slot));
  }

  get ringSlots(): readonly string[] {
    return this.ring.slots;
  }

  async refresh(): Promise<void> {
    const nodes = await this.registry.liveNodes();
    const next = new HashRing(nodes.flatMap((n) => n.slots));
    if (next.sameAs(this.ring)) return;
    this.logger.info({ slots: next.slots.length, nodes: nodes.map((n) => n.nodeId) }, 'ring changed');
    const others = next.slots.filter((slot) => !this.bySlot.has(slot));
    if (others.length > 0) {
      // Say it loudly: a second node on the same Redis prefix takes part of the ring,
      // and this node cannot forward to it yet.
      this.logger.warn(
        { otherSlots: others.length, ownSlots: this.bySlot.size },
        'other nodes share this ring; node-to-node forwarding is not built yet, so their conversations are answered unavailable here (give each node its own WHISPR_REDIS_PREFIX to run them separately)',
      );
    }
    this.ring = next;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'ring refresh failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
