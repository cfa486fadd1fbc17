/**
 * The ring as the registry defines it: every live node's slots, read from Redis
 * exactly where the nodes write them (`${prefix}cluster:nodes`, a sorted set
 * scored by heartbeat, and `${prefix}cluster:node:<id>`, whose `slots` field is
 * a JSON list), turned into the same HashRing the nodes build. The bench uses it
 * to choose conversations owned by a given node and to check that choice.
 */
import { Redis } from 'ioredis';
import { HashRing } from '@whispr/cluster';
import { RedisKeys } from '@whispr/store';

export interface RegistryRing {
  ring: HashRing;
  /** Node id of each slot. */
  nodeOfSlot: ReadonlyMap<string, string>;
  /** Slots of each node id. */
  slotsOfNode: ReadonlyMap<string, readonly string[]>;
}

/** The live nodes' ring: those whose heartbeat is younger than `graceMs` (what Membership calls live). */
export async function readRegistryRing(redisUrl: string, prefix: string, graceMs: number): Promise<RegistryRing> {
  const keys = new RedisKeys(prefix);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const ids = await redis.zrangebyscore(keys.nodes(), String(Date.now() - graceMs), '+inf');
    const slotsOfNode = new Map<string, string[]>();
    for (const id of ids) {
      const raw = await redis.hget(keys.node(id), 'slots');
      if (raw === null) continue;
      const slots: unknown = JSON.parse(raw);
      if (!Array.isArray(slots) || !slots.every((s): s is string => typeof s === 'string')) throw new Error(`registry entry ${keys.node(id)} has slots that are not a list of strings: ${raw}`);
      slotsOfNode.set(id, slots);
    }
    return ringOf(slotsOfNode);
  } finally {
    redis.disconnect();
  }
}

export function ringOf(slotsOfNode: ReadonlyMap<string, readonly string[]>): RegistryRing {
  const nodeOfSlot = new Map<string, string>();
  for (const [node, slots] of slotsOfNode) for (const slot of slots) nodeOfSlot.set(slot, node);
  return { ring: new HashRing(nodeOfSlot.keys()), nodeOfSlot, slotsOfNode };
}

/** The node owning `key` on this ring, or null for an empty ring. */
export function ownerNode(registry: RegistryRing, key: string): string | null {
  const slot = registry.ring.ownerOf(key);
  return slot === null ? null : (registry.nodeOfSlot.get(slot) ?? null);
}
