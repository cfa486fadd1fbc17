/**
 * NodeRegistry in Redis: a sorted set of node ids scored by last heartbeat, and
 * a hash per node (status, last_heartbeat, host, port, slots). A node whose
 * heartbeat is older than the lapse time is not live; its entries are pruned.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '@whispr/store';
import type { NodeInfo, NodeRegistry } from './registry.ts';

export interface RedisNodeRegistryOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  heartbeatMs?: number;
  /** A node silent for this long is dropped from the ring. */
  lapseMs?: number;
}

export class RedisNodeRegistry implements NodeRegistry {
  private readonly heartbeatMs: number;
  private readonly lapseMs: number;
  private timer: NodeJS.Timeout | null = null;
  private self: Omit<NodeInfo, 'lastHeartbeat'> | null = null;

  constructor(private readonly o: RedisNodeRegistryOptions) {
    this.heartbeatMs = o.heartbeatMs ?? 1000;
    this.lapseMs = o.lapseMs ?? 5000;
    if (!(this.heartbeatMs > 0)) throw new TypeError(`RedisNodeRegistry heartbeatMs must be positive, got ${this.heartbeatMs}`);
    if (!(this.lapseMs > this.heartbeatMs * 2)) throw new TypeError(`RedisNodeRegistry lapseMs must exceed two heartbeats, got ${this.lapseMs}`);
  }

  /** When the last heartbeat reached Redis (ms since the epoch; 0: never). */
  lastBeatOk = 0;

  async register(node: Omit<NodeInfo, 'lastHeartbeat'>): Promise<void> {
    this.self = node;
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) => this.o.logger.warn({ err }, 'heartbeat failed'));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /**
   * Writes this node's entry and heartbeat. Every beat writes the whole entry, so a
   * Redis that lost every key (a restart) has it back at the next beat.
   */
  async beat(): Promise<void> {
    const node = this.self;
    if (!node) return;
    const now = Date.now();
    const key = this.o.keys.node(node.nodeId);
    const results = await this.o.redis
      .multi()
      .zadd(this.o.keys.nodes(), now, node.nodeId)
      .hset(key, 'status', 'active', 'last_heartbeat', String(now), 'host', node.host, 'port', String(node.port), 'slots', JSON.stringify(node.slots), 'incarnation', node.incarnation)
      .pexpire(key, this.lapseMs * 2)
      .zremrangebyscore(this.o.keys.nodes(), '-inf', String(now - this.lapseMs * 2))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    this.lastBeatOk = now;
  }

  async liveNodes(): Promise<NodeInfo[]> {
    const ids = await this.o.redis.zrangebyscore(this.o.keys.nodes(), String(Date.now() - this.lapseMs), '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.o.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.o.keys.node(id));
    const rows = (await pipeline.exec()) ?? [];
    const nodes: NodeInfo[] = [];
    ids.forEach((nodeId, i) => {
      const [err, value] = rows[i] ?? [null, null];
      if (err) throw err;
      const node = parseNode(nodeId, value);
      if (node) nodes.push(node);
    });
    return nodes;
  }

  async deregister(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const node = this.self;
    this.self = null;
    if (!node) return;
    await this.o.redis.multi().zrem(this.o.keys.nodes(), node.nodeId).del(this.o.keys.node(node.nodeId)).exec();
  }
}

/** One member of the registry's sorted set, as an operator sees it: live or lapsed, readable or not. */
export interface RegistryEntry {
  nodeId: string;
  /** The heartbeat score in the sorted set (ms since the epoch). */
  heartbeat: number;
  /** The node's hash, or null when it is missing (expired) or not an entry this service wrote. */
  node: NodeInfo | null;
}

/**
 * Every node the registry's sorted set still holds, lapsed ones included (they are
 * pruned only by the next heartbeat of a live node), oldest heartbeat first. For
 * `pnpm cluster status`: the nodes themselves read only the live ones (liveNodes).
 */
export async function readRegistry(redis: Redis, keys: RedisKeys): Promise<RegistryEntry[]> {
  const flat = await redis.zrange(keys.nodes(), '0', '-1', 'WITHSCORES');
  const members: { nodeId: string; heartbeat: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) members.push({ nodeId: flat[i] ?? '', heartbeat: Number(flat[i + 1]) });
  if (members.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const m of members) pipeline.hgetall(keys.node(m.nodeId));
  const rows = (await pipeline.exec()) ?? [];
  return members.map((m, i) => {
    const [err, value] = rows[i] ?? [null, null];
    if (err) throw err;
    return { ...m, node: parseNode(m.nodeId, value) };
  });
}

/**
 * A registry entry read back from Redis, which is not trusted: an entry missing a
 * field, with slots that are not a list of strings or a port that is not a port,
 * is not a live node (it is logged by no one and simply ignored until it heals).
 */
function parseNode(nodeId: string, value: unknown): NodeInfo | null {
  if (value === null || typeof value !== 'object') return null;
  const h = value as Record<string, unknown>;
  if (h.status !== 'active' || typeof h.slots !== 'string' || typeof h.incarnation !== 'string' || typeof h.host !== 'string') return null;
  let slots: unknown;
  try {
    slots = JSON.parse(h.slots);
  } catch {
    // Not JSON: not an entry this service wrote.
    return null;
  }
  if (!Array.isArray(slots) || !slots.every((s): s is string => typeof s === 'string' && s.startsWith(`${nodeId}#`))) return null;
  const port = Number(h.port);
  const lastHeartbeat = Number(h.last_heartbeat);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isFinite(lastHeartbeat)) return null;
  return { nodeId, incarnation: h.incarnation, host: h.host, port, slots, lastHeartbeat };
}
