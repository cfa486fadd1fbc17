/**
 * Presence and sessions in Redis (seed §3.2.1, §3.2.2): the one home of how a
 * user's connections are recorded (written by the node that holds them) and
 * read (by the fan-out that decides where an event goes and whether a message is
 * queued offline).
 *
 * `presence:user:{id}` is a hash with a field per node, `n:<nodeId>`, holding
 * `<count>@<incarnation>`: how many connections the user has on that node
 * (DESIGN.md "Presence knows every node of a user") and which run of the node
 * wrote it (a random id per process start, also in the node registry). Beside
 * them: `last_activity` and the seed's `connections` (the total, kept for readers
 * of the seed's layout; the node fields are what this service reads). Each node
 * owns its field and rewrites it with its exact count on every refresh, so a
 * Redis restart or a lost decrement heals by itself. Readers count a field only
 * when its node is live in that same incarnation: a crashed node's fields are
 * ignored, and a restarted node's old ones too (they are deleted in passing).
 * The hash expires PRESENCE_TTL_S after the last refresh.
 */
import type { Redis } from 'ioredis';
import { PRESENCE_TTL_S, type RedisKeys } from './redis-keys.ts';

const NODE_FIELD = 'n:';
const SESSION_TTL_S = 24 * 3600;

/** What presence records of one connection. */
export interface PresenceConnection {
  userId: string;
  sessionId: string;
  /** Token expiry (ms since the epoch) or null: the session key lives as long as the token. */
  exp: number | null;
  ip: string;
  userAgent: string;
  connectedAt: number;
  lastActivity: number;
  /** The user's connections on this node, this one included (connected) or not (disconnected). */
  countHere: number;
}

const nodeField = (nodeId: string): string => `${NODE_FIELD}${nodeId}`;

async function run(multi: ReturnType<Redis['multi']> | ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
  return results.map(([, value]) => value);
}

/** The writing side, for the node holding the sockets. */
export class PresenceWriter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    /** This run of the node (a random id per process start, as in its registry entry). */
    private readonly incarnation: string,
  ) {}

  private value(count: number): string {
    return `${count}@${this.incarnation}`;
  }

  async connected(c: PresenceConnection): Promise<void> {
    const presence = this.keys.presenceUser(c.userId);
    const session = this.keys.session(c.sessionId);
    const ttl = c.exp === null ? SESSION_TTL_S : Math.max(1, Math.ceil((c.exp - Date.now()) / 1000));
    await run(
      this.redis
        .multi()
        .hset(presence, nodeField(this.nodeId), this.value(c.countHere))
        .hincrby(presence, 'connections', 1)
        .hset(presence, 'last_activity', String(Date.now()))
        .expire(presence, PRESENCE_TTL_S)
        .hset(session, 'user_id', c.userId, 'device_id', c.sessionId, 'ip', c.ip, 'user_agent', c.userAgent, 'connected_at', String(c.connectedAt), 'node', this.nodeId)
        .expire(session, Math.min(ttl, SESSION_TTL_S)),
    );
  }

  /** One connection closed (`countHere`: how many the user still has on this node). */
  async disconnected(c: PresenceConnection): Promise<void> {
    const presence = this.keys.presenceUser(c.userId);
    const multi = this.redis.multi();
    // The exact count, not a decrement: a field never drifts from what this node holds.
    if (c.countHere > 0) multi.hset(presence, nodeField(this.nodeId), this.value(c.countHere));
    else multi.hdel(presence, nodeField(this.nodeId));
    const values = await run(
      multi
        .hincrby(presence, 'connections', -1)
        .hset(presence, 'last_activity', String(c.lastActivity))
        .expire(presence, PRESENCE_TTL_S)
        .del(this.keys.session(c.sessionId)),
    );
    // The seed's total can go below zero after a node died holding connections: clamp it.
    if (typeof values[1] === 'number' && values[1] < 0) await this.redis.hset(presence, 'connections', '0');
  }

  /**
   * Rewrites this node's field of every user it holds with the exact count, and
   * renews the hashes; also what restores presence after a Redis restart.
   */
  async refresh(users: ReadonlyMap<string, { count: number; lastActivity: number }>): Promise<void> {
    if (users.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [userId, u] of users) {
      const key = this.keys.presenceUser(userId);
      pipeline.hset(key, nodeField(this.nodeId), this.value(u.count), 'last_activity', String(u.lastActivity));
      pipeline.expire(key, PRESENCE_TTL_S);
    }
    await run(pipeline);
  }
}

/** Where a user is connected: the live nodes holding at least one of their connections. */
export type UserNodes = Map<string, string[]>;

/** The reading side, for the fan-out. */
export class PresenceReader {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  /**
   * For each user, the live nodes they are connected to (an empty list: offline).
   * `liveNodes` maps each live node to its incarnation. Fields of other nodes are
   * ignored (a node missing from the set may only be in a blip); fields a live
   * node wrote in an earlier incarnation are stale for sure, and deleted in passing.
   */
  async nodesOf(users: readonly string[], liveNodes: ReadonlyMap<string, string>): Promise<UserNodes> {
    const out: UserNodes = new Map();
    if (users.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const u of users) pipeline.hgetall(this.keys.presenceUser(u));
    const values = await run(pipeline);
    const stale = this.redis.pipeline();
    let staleCount = 0;
    users.forEach((user, i) => {
      const hash = (values[i] ?? {}) as Record<string, string>;
      const nodes: string[] = [];
      for (const field in hash) {
        if (!field.startsWith(NODE_FIELD)) continue;
        const node = field.slice(NODE_FIELD.length);
        const live = liveNodes.get(node);
        if (live === undefined) continue;
        const [count, incarnation] = (hash[field] ?? '').split('@');
        if (incarnation !== live) {
          stale.hdel(this.keys.presenceUser(user), field);
          staleCount++;
        } else if (Number(count) > 0) nodes.push(node);
      }
      out.set(user, nodes);
    });
    // Best effort, deliberately unawaited: a stale field left behind is ignored by every reader anyway.
    if (staleCount > 0) stale.exec().catch(() => undefined);
    return out;
  }
}
