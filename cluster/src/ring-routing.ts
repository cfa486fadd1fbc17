/**
 * ShardRouting for the gateway: the owner of a key is the slot the ring gives
 * it, which is one of this node's shards or a shard of another node (reached
 * through the node-to-node link). While this node does not serve its slots
 * (membership.ts: heartbeat not fresh), nothing is owned here, and a key whose
 * owner this node cannot tell is answered `unavailable` by the gateway.
 */
import type { Shard } from '@whispr/actors';
import type { Owner, ShardRouting } from '@whispr/gateway';
import type { Membership } from './membership.ts';

export class RingRouting implements ShardRouting {
  readonly shards: readonly Shard[];
  private readonly bySlot: Map<string, Shard>;

  constructor(shards: Shard[], private readonly membership: Membership) {
    this.shards = shards;
    this.bySlot = new Map(shards.map((s) => [s.slot, s]));
  }

  ownerOf(key: string): Owner | null {
    const slot = this.membership.currentRing.ownerOf(key);
    if (slot === null) return null;
    const shard = this.bySlot.get(slot);
    if (shard) return this.membership.serving ? { kind: 'local', shard } : null;
    const node = this.membership.nodeOf(slot);
    return node === undefined ? null : { kind: 'remote', node };
  }

  /** True when every local slot is in the ring and this node serves them. */
  ownsItsSlots(): boolean {
    const slots = this.membership.currentRing.slots;
    return this.membership.serving && this.shards.every((s) => slots.includes(s.slot));
  }

  get ringSlots(): readonly string[] {
    return this.membership.currentRing.slots;
  }
}
