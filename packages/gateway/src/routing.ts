/**
 * What the gateway needs from the cluster: which shard owns a routing key. The
 * cluster package implements it with the hash ring over every node's slots.
 */
import type { Shard } from '@whispr/actors';

export interface ShardRouting {
  /** The local shard that owns `key`, or null when its owner is not on this node or not known yet. */
  shardFor(key: string): Shard | null;
  /** Every local shard. */
  readonly shards: readonly Shard[];
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}
