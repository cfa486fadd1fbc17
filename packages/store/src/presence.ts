/**
 * Presence and sessions in Redis (seed §3.2.1, §3.2.2): the one home of how a
 * user's connections are recorded (written by the node that holds them) and
 * read (by the fan-out that decides where an event goes and whether a message is
 * queued offline, and by presence.watch).
 *
 * `presence:user:{id}` is a hash with a field per node, `n:<nodeId>`, holding
 * `<count>@<incarnation>`: how many connections the user has on that node
 * (DESIGN.md "Presence knows every node of a user") and which run of the node
 * wrote it (a random id per process start, also in the node registry). Beside
 * them, the seed's fields: `last_activity`, `connections` (the total, kept for
 * readers of the seed's layout; the node fields are what this service reads),
 * `node` (the node of the latest connection) and the devices, one field per
 * connection `d:<sessionId>` = `<nodeId>@<incarnation>` (a hash cannot hold a
 * list; a field each keeps connect and disconnect one command each). Each node
 * owns its fields and rewrites them with its exact state on every refresh, so a
 * Redis restart or a lost decrement heals by itself. Readers count a field only
 * when its node is live in that same incarnation: a crashed node's fields are
 * ignored, and a restarted node's old ones too (they are deleted in passing).
 * The hash expires PRESENCE_TTL_S after the last refresh.
 *
 * A connect or disconnect is one MULTI, which also reads the hash back and the
 * user's watcher nodes (`presence:watchers:{id}`): being atomic, exactly one
 * connect sees the user go from no live connection to one (online) and exactly
 * one disconnect sees the last go (offline), and a watcher registered before it
 * is seen by it (presence-watch in the gateway relies on both).
 */
import type { Redis } from 'ioredis';
import { PRESENCE_TTL_S, type RedisKeys } from './redis-keys.ts';

const NODE_FIELD = 'n:';
const DEVICE_FIELD = 'd:';
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
const deviceField = (sessionId: string): string => `${DEVICE_FIELD}${sessionId}`;

/** A user's presence turned: online (first connection anywhere) or offline (last one anywhere closed). */
export interface PresenceChange {
  userId: string;
  online: boolean;
  lastActivity: number;
  /** When it turned (ms since the epoch): orders announcements that cross on their way. */
  at: number;
}

/** What a connect or disconnect did to the user's presence across the cluster. */
export interface PresenceOutcome {
  /** Null: the user was already online elsewhere (connect) or still is (disconnect). */
  change: PresenceChange | null;
  /** The nodes watching the user: node id → the incarnation it registered under. */
  watchers: Map<string, string>;
}

/** A user's presence as presence.watch reports it. */
export interface PresenceState {
  online: boolean;
  /** Null: no record (never connected, or offline for longer than the record's TTL). */
  lastActivity: number | null;
}

type Hash = Record<string, string>;
const asHash = (v: unknown): Hash => (v !== null && typeof v === 'object' ? (v as Hash) : {});

/** Whether a live node other than `except`, in the incarnation that wrote it, holds connections of the user. */
function heldElsewhere(hash: Hash, live: ReadonlyMap<string, string>, except: string | null): boolean {
  for (const field in hash) {
    if (!field.startsWith(NODE_FIELD)) continue;
    const node = field.slice(NODE_FIELD.length);
    if (node === except) continue;
    const [count, incarnation] = (hash[field] ?? '').split('@');
    if (incarnation !== undefined && live.get(node) === incarnation && Number(count) > 0) return true;
  }
  return false;
}

/** The presence of a user from their hash, counting only live nodes' fields. */
export function presenceStateOf(hash: Hash, live: ReadonlyMap<string, string>): PresenceState {
  const at = Number(hash.last_activity);
  return { online: heldElsewhere(hash, live, null), lastActivity: hash.last_activity !== undefined && Number.isFinite(at) ? at : null };
}

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

  private device(): string {
    return `${this.nodeId}@${this.incarnation}`;
  }

  /** One connection opened (`countHere`: the user's connections on this node, this one included). `live`: live node → incarnation. */
  async connected(c: PresenceConnection, live: ReadonlyMap<string, string>): Promise<PresenceOutcome> {
    const presence = this.keys.presenceUser(c.userId);
    const session = this.keys.session(c.sessionId);
    const ttl = c.exp === null ? SESSION_TTL_S : Math.max(1, Math.ceil((c.exp - Date.now()) / 1000));
    const now = Date.now();
    const values = await run(
      this.redis
        .multi()
        .hset(presence, nodeField(this.nodeId), this.value(c.countHere), deviceField(c.sessionId), this.device(), 'node', this.nodeId, 'last_activity', String(now))
        .hincrby(presence, 'connections', 1)
        .expire(presence, PRESENCE_TTL_S)
        .hset(session, 'user_id', c.userId, 'device_id', c.sessionId, 'ip', c.ip, 'user_agent', c.userAgent, 'connected_at', String(c.connectedAt), 'node', this.nodeId)
        .expire(session, Math.min(ttl, SESSION_TTL_S))
        .hgetall(presence)
        .hgetall(this.keys.presenceWatchers(c.userId)),
    );
    const first = c.countHere === 1 && !heldElsewhere(asHash(values[5]), live, this.nodeId);
    return { change: first ? { userId: c.userId, online: true, lastActivity: now, at: now } : null, watchers: new Map(Object.entries(asHash(values[6]))) };
  }

  /** One connection closed (`countHere`: how many the user still has on this node). */
  async disconnected(c: PresenceConnection, live: ReadonlyMap<string, string>): Promise<PresenceOutcome> {
    const presence = this.keys.presenceUser(c.userId);
    const multi = this.redis.multi();
    // The exact count, not a decrement: a field never drifts from what this node holds.
    if (c.countHere > 0) multi.hset(presence, nodeField(this.nodeId), this.value(c.countHere));
    else multi.hdel(presence, nodeField(this.nodeId));
    const values = await run(
      multi
        .hdel(presence, deviceField(c.sessionId))
        .hincrby(presence, 'connections', -1)
        .hset(presence, 'last_activity', String(c.lastActivity))
        .expire(presence, PRESENCE_TTL_S)
        .del(this.keys.session(c.sessionId))
        .hgetall(presence)
        .hgetall(this.keys.presenceWatchers(c.userId)),
    );
    // The seed's total can go below zero after a node died holding connections: clamp it.
    if (typeof values[2] === 'number' && values[2] < 0) await this.redis.hset(presence, 'connections', '0');
    const last = c.countHere === 0 && !heldElsewhere(asHash(values[6]), live, this.nodeId);
    return { change: last ? { userId: c.userId, online: false, lastActivity: c.lastActivity, at: Date.now() } : null, watchers: new Map(Object.entries(asHash(values[7]))) };
  }

  /**
   * Rewrites this node's field of every user it holds with the exact count, and
   * renews the hashes; also what restores presence after a Redis restart.
   */
  async refresh(users: ReadonlyMap<string, { count: number; lastActivity: number; sessions: string[] }>): Promise<void> {
    if (users.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [userId, u] of users) {
      const key = this.keys.presenceUser(userId);
      const devices = u.sessions.flatMap((s) => [deviceField(s), this.device()]);
      pipeline.hset(key, nodeField(this.nodeId), this.value(u.count), 'last_activity', String(u.lastActivity), ...devices);
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
        if (field.startsWith(DEVICE_FIELD)) {
          // A device left by an earlier run of a live node (it crashed): stale for sure.
          const [node, incarnation] = (hash[field] ?? '').split('@');
          const current = node === undefined ? undefined : liveNodes.get(node);
          if (current !== undefined && current !== incarnation) {
            stale.hdel(this.keys.presenceUser(user), field);
            staleCount++;
          }
          continue;
        }
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

/** Users read per pipeline when many are read at once (a node re-checking everyone it watches). */
const STATE_CHUNK = 1000;

/**
 * Which nodes watch whom (presence.watch): `presence:watchers:{userId}`, node id
 * → incarnation, one field per node that has at least one connection watching
 * the user, however many connections that is. A presence change is sent to each
 * of those nodes once; each delivers it to its own watching connections.
 */
export class PresenceWatchers {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly incarnation: string,
  ) {}

  /**
   * Registers this node as a watcher of `added` (users it did not watch yet) and
   * reads the presence of `users`, in one MULTI: a connect or disconnect after
   * it sees the registration, one before it is in the state read.
   */
  async watch(added: readonly string[], users: readonly string[], live: ReadonlyMap<string, string>): Promise<Map<string, PresenceState>> {
    const multi = this.redis.multi();
    for (const u of added) {
      const key = this.keys.presenceWatchers(u);
      multi.hset(key, this.nodeId, this.incarnation).expire(key, PRESENCE_TTL_S);
    }
    for (const u of users) multi.hgetall(this.keys.presenceUser(u));
    const values = await run(multi);
    const out = new Map<string, PresenceState>();
    users.forEach((u, i) => out.set(u, presenceStateOf(asHash(values[added.length * 2 + i]), live)));
    return out;
  }

  /** This node watches these users no more (no connection of it does). */
  async unwatch(removed: readonly string[]): Promise<void> {
    if (removed.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const u of removed) pipeline.hdel(this.keys.presenceWatchers(u), this.nodeId);
    await run(pipeline);
  }

  /** Forgets watcher entries found stale (a dead or earlier run of a node); best effort. */
  forget(userId: string, nodes: readonly string[]): void {
    if (nodes.length === 0) return;
    // Deliberately unawaited: a stale entry left behind only costs a skipped look at it.
    this.redis.hdel(this.keys.presenceWatchers(userId), ...nodes).catch(() => undefined);
  }

  /** The presence of many users, read in chunks of STATE_CHUNK. */
  async states(users: readonly string[], live: ReadonlyMap<string, string>): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    for (let i = 0; i < users.length; i += STATE_CHUNK) {
      const chunk = users.slice(i, i + STATE_CHUNK);
      const pipeline = this.redis.pipeline();
      for (const u of chunk) pipeline.hgetall(this.keys.presenceUser(u));
      const values = await run(pipeline);
      chunk.forEach((u, j) => out.set(u, presenceStateOf(asHash(values[j]), live)));
    }
    return out;
  }

  /** Renews this node's entry for every user it watches (and restores them after a Redis restart). */
  async refresh(users: readonly string[]): Promise<void> {
    for (let i = 0; i < users.length; i += STATE_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const u of users.slice(i, i + STATE_CHUNK)) {
        const key = this.keys.presenceWatchers(u);
        pipeline.hset(key, this.nodeId, this.incarnation).expire(key, PRESENCE_TTL_S);
      }
      await run(pipeline);
    }
  }
}
