/**
 * The gateway's side of presence (seed §3.2.1, §3.2.2; the records themselves are
 * store/presence.ts): a connection is recorded when it opens and taken off when
 * it closes, and every connected user's record on this node is rewritten
 * periodically (and after Redis came back), which also keeps it from expiring.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { PresenceWriter, type PresenceConnection, type RedisKeys } from '@whispr/store';
import type { Connection } from './connection.ts';
import type { LocalUsers } from './local-users.ts';

export class Presence {
  private readonly writer: PresenceWriter;

  constructor(redis: Redis, keys: RedisKeys, nodeId: string, incarnation: string, private readonly users: LocalUsers, private readonly logger: Logger) {
    this.writer = new PresenceWriter(redis, keys, nodeId, incarnation);
  }

  private record(conn: Connection): PresenceConnection {
    return {
      userId: conn.userId, sessionId: conn.sessionId, exp: conn.exp, ip: conn.ip, userAgent: conn.userAgent,
      connectedAt: conn.connectedAt, lastActivity: conn.lastActivity, countHere: this.users.get(conn.userId)?.size ?? 0,
    };
  }

  /** Called after the connection was added to LocalUsers. */
  connected(conn: Connection): Promise<void> {
    return this.writer.connected(this.record(conn));
  }

  /** Called after the connection was removed from LocalUsers. */
  disconnected(conn: Connection): Promise<void> {
    return this.writer.disconnected(this.record(conn));
  }

  /** Rewrites this node's presence of every connected user. */
  refresh(connections: Iterable<Connection>): void {
    const latest = new Map<string, { count: number; lastActivity: number }>();
    for (const c of connections) {
      const u = latest.get(c.userId);
      if (u) {
        u.count++;
        u.lastActivity = Math.max(u.lastActivity, c.lastActivity);
      } else latest.set(c.userId, { count: 1, lastActivity: c.lastActivity });
    }
    this.writer.refresh(latest).catch((err: unknown) => this.logger.warn({ err }, 'presence refresh failed'));
  }
}
