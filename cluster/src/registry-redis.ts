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

  async register(node: Omit<NodeInfo, 'lastHeartbeat'>): Promise<void> {
    this.self = node;
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) => this.o.logger.warn({ err }, 'heartbeat failed'));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const node = this.self;
    if (!node) return;
    const now = Date.now();
    const key = this.o.keys.node(node.nodeId);
    const results = await this.o.redis
      .multi()
      .zadd(this.o.keys.nodes(), now, node.nodeId)
      .hset(key, 'status', 'active', 'last_heartbeat', String(now), 'host', node.host, 'port', String(node.port), 'slots', JSON.stringify(node.slots))
      .pexpire(key, this.lapseMs * 2)
      .zremrangebyscore(this.o.keys.nodes(), '-inf', String(now - this.lapseMs * 2))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
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
      const h = value as Record<string, string> | null;
      if (!h || h.status !== 'active' || !h.slots) return;
      nodes.push({ nodeId, host: h.host ?? '', port: Number(h.port), slots: JSON.parse(h.slots) as string[], lastHeartbeat: Number(h.last_heartbeat) });
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
