/**
 * Presence and sessions in Redis (seed §3.2.1, §3.2.2), written by the node that
 * holds the sockets. `connections` counts a user's open connections across
 * nodes; the hash expires 2 minutes after the last refresh, so a crashed node's
 * users fall offline by themselves.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { PRESENCE_TTL_S, type RedisKeys } from '@whispr/store';
import type { Connection } from './connection.ts';

const SESSION_TTL_S = 24 * 3600;

export class Presence {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  async connected(conn: Connection): Promise<void> {
    const presence = this.keys.presenceUser(conn.userId);
    const session = this.keys.session(conn.sessionId);
    const ttl = conn.exp === null ? SESSION_TTL_S : Math.max(1, Math.ceil((conn.exp - Date.now()) / 1000));
    const results = await this.redis
      .multi()
      .hincrby(presence, 'connections', 1)
      .hset(presence, 'node', this.nodeId, 'last_activity', String(Date.now()))
      .expire(presence, PRESENCE_TTL_S)
      .hset(session, 'user_id', conn.userId, 'device_id', conn.sessionId, 'ip', conn.ip, 'user_agent', conn.userAgent, 'connected_at', String(conn.connectedAt), 'node', this.nodeId)
      .expire(session, Math.min(ttl, SESSION_TTL_S))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async disconnected(conn: Connection): Promise<void> {
    const presence = this.keys.presenceUser(conn.userId);
    const results = await this.redis
      .multi()
      .hincrby(presence, 'connections', -1)
      .hset(presence, 'last_activity', String(conn.lastActivity))
      .expire(presence, PRESENCE_TTL_S)
      .del(this.keys.session(conn.sessionId))
      .exec();
    const left = results?.[0]?.[1];
    // A count below zero means a node died holding connections and its users were re-counted: clamp.
    if (typeof left === 'number' && left < 0) await this.redis.hset(presence, 'connections', '0');
  }

  /** Keeps the presence of the node's connected users alive; called periodically. */
  refresh(connections: Iterable<Connection>): void {
    const latest = new Map<string, number>();
    for (const c of connections) latest.set(c.userId, Math.max(latest.get(c.userId) ?? 0, c.lastActivity));
    if (latest.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [userId, at] of latest) {
      const key = this.keys.presenceUser(userId);
      pipeline.hset(key, 'last_activity', String(at));
      pipeline.expire(key, PRESENCE_TTL_S);
    }
    pipeline.exec().catch((err: unknown) => this.logger.warn({ err }, 'presence refresh failed'));
  }
}
