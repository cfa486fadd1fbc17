/**
 * The gateway's side of presence (seed §3.2.1, §3.2.2; the records themselves are
 * store/presence.ts): a connection is recorded when it opens and taken off when
 * it closes, and every connected user's record on this node is rewritten
 * periodically (and after Redis came back), which also keeps it from expiring.
 *
 * It also runs presence.watch / presence.unwatch for this node's connections
 * (docs/architecture.md "Presence"): watches live here, in memory
 * (presence-watchers.ts), and this node is listed in Redis as a watcher of each
 * user one of its connections watches. A connect that takes a user online, or a
 * disconnect that takes them offline, is seen by exactly one node (one MULTI
 * each), which sends the change once to every watcher node (itself included);
 * each node writes it to its own watching connections. When the membership
 * drops a node, every node re-reads the users it watches, so the dead node's
 * users go offline for their watchers within the grace.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { badRequest, encodeFrame, MAX_PRESENCE_WATCHED, unavailable, type PresenceEntry, type PresenceEvent, type PresenceResult } from '@whispr/protocol';
import {
  PresenceWatchers, PresenceWriter, type PresenceChange, type PresenceConnection, type PresenceOutcome, type PresenceState, type RedisKeys,
} from '@whispr/store';
import type { Connection } from './connection.ts';
import type { EventDelivery } from './event-delivery.ts';
import type { LocalUsers } from './local-users.ts';
import { WatchTable } from './presence-watchers.ts';
import type { PeerLink } from './routing.ts';

export interface PresenceOptions {
  redis: Redis;
  keys: RedisKeys;
  nodeId: string;
  incarnation: string;
  users: LocalUsers;
  delivery: EventDelivery;
  logger: Logger;
  /** The live nodes (id → incarnation); absent: this node alone. */
  liveNodes?: () => ReadonlyMap<string, string>;
  peers?: PeerLink;
}

export class Presence {
  private readonly writer: PresenceWriter;
  private readonly watchers: PresenceWatchers;
  private readonly table = new WatchTable();
  private rechecking: Promise<void> | null = null;
  private recheckAgain = false;

  constructor(private readonly o: PresenceOptions) {
    this.writer = new PresenceWriter(o.redis, o.keys, o.nodeId, o.incarnation);
    this.watchers = new PresenceWatchers(o.redis, o.keys, o.nodeId, o.incarnation);
  }

  private live(): Map<string, string> {
    const live = new Map(this.o.liveNodes?.() ?? []);
    // This node's own records are always current.
    live.set(this.o.nodeId, this.o.incarnation);
    return live;
  }

  private record(conn: Connection): PresenceConnection {
    return {
      userId: conn.userId, sessionId: conn.sessionId, exp: conn.exp, ip: conn.ip, userAgent: conn.userAgent,
      connectedAt: conn.connectedAt, lastActivity: conn.lastActivity, countHere: this.o.users.get(conn.userId)?.size ?? 0,
    };
  }

  /** Called after the connection was added to LocalUsers. */
  async connected(conn: Connection): Promise<void> {
    this.announce(await this.writer.connected(this.record(conn), this.live()));
  }

  /** Called after the connection was removed from LocalUsers: its watches go too. */
  async disconnected(conn: Connection): Promise<void> {
    const unwatched = this.watchers.unwatch(this.table.drop(conn));
    this.announce(await this.writer.disconnected(this.record(conn), this.live()));
    await unwatched;
  }

  /** Rewrites this node's presence of every connected user, and its watcher entries. */
  refresh(connections: Iterable<Connection>): void {
    const latest = new Map<string, { count: number; lastActivity: number; sessions: string[] }>();
    for (const c of connections) {
      const u = latest.get(c.userId);
      if (u) {
        u.count++;
        u.lastActivity = Math.max(u.lastActivity, c.lastActivity);
        u.sessions.push(c.sessionId);
      } else latest.set(c.userId, { count: 1, lastActivity: c.lastActivity, sessions: [c.sessionId] });
    }
    this.writer.refresh(latest).catch((err: unknown) => this.o.logger.warn({ err }, 'presence refresh failed'));
    this.watchers.refresh(this.table.users()).catch((err: unknown) => this.o.logger.warn({ err }, 'presence watcher refresh failed'));
  }

  /** presence.watch: the connection gets `presence` events for these users from now on. */
  async watch(conn: Connection, userIds: readonly string[]): Promise<PresenceResult> {
    const users = [...new Set(userIds)];
    const total = this.table.countOf(conn) + this.table.newFor(conn, users);
    if (total > MAX_PRESENCE_WATCHED) {
      throw badRequest('user_ids', `a connection watches at most ${MAX_PRESENCE_WATCHED} users (hello.limits.max_presence_watched); this one would watch ${total}`);
    }
    // In the table first: a change announced while the read is on its way is delivered, not lost.
    const before = users.map((u) => this.table.versionOf(u));
    const fresh = this.table.add(conn, users);
    let read: Map<string, PresenceState>;
    try {
      read = await this.watchers.watch(fresh, users, this.live());
    } catch (err) {
      // Not recorded in Redis: undo, so the connection is not left half watching.
      this.watchers.unwatch(this.table.remove(conn, users)).catch(() => undefined /* the entries lapse with their TTL */);
      throw unavailable('presence cannot be read now; retry', { cause: err });
    }
    return { presence: users.map((u, i) => entry(u, this.table.settle(u, read.get(u) ?? OFFLINE, before[i] ?? 0))) };
  }

  /** presence.unwatch: no more events for these users on this connection; answers their state as it is. */
  async unwatch(conn: Connection, userIds: readonly string[]): Promise<PresenceResult> {
    const users = [...new Set(userIds)];
    try {
      const [states] = await Promise.all([this.watchers.states(users, this.live()), this.watchers.unwatch(this.table.remove(conn, users))]);
      return { presence: users.map((u) => entry(u, states.get(u) ?? OFFLINE)) };
    } catch (err) {
      throw unavailable('presence cannot be read now; retry', { cause: err });
    }
  }

  /** A change another node saw: to this node's connections that watch the user. */
  fromPeer(change: PresenceChange): void {
    this.deliver(change, false);
  }

  /**
   * The membership changed: re-read every user this node watches, and tell the
   * watchers of those whose presence turned (a dead node's users go offline: its
   * fields no longer count). One pass at a time; a change during it runs another.
   */
  nodesChanged(): void {
    if (this.rechecking) {
      this.recheckAgain = true;
      return;
    }
    this.rechecking = (async () => {
      do {
        this.recheckAgain = false;
        const users = this.table.users();
        const states = await this.watchers.states(users, this.live());
        const at = Date.now();
        for (const [userId, s] of states) {
          if (this.table.stateOf(userId)?.online === s.online) continue;
          this.deliver({ userId, online: s.online, lastActivity: s.lastActivity ?? at, at }, true);
        }
      } while (this.recheckAgain);
    })()
      .catch((err: unknown) => this.o.logger.warn({ err }, 'presence re-check after a membership change failed'))
      .finally(() => {
        this.rechecking = null;
      });
  }

  /** Sends a change seen here to every node watching the user (this one included), once each. */
  private announce(outcome: PresenceOutcome): void {
    const { change, watchers } = outcome;
    if (!change || watchers.size === 0) return;
    const live = this.live();
    const stale: string[] = [];
    for (const [node, incarnation] of watchers) {
      if (node === this.o.nodeId) {
        if (incarnation === this.o.incarnation) this.deliver(change, false);
        else stale.push(node);
        continue;
      }
      const current = live.get(node);
      // A node missing from the view may be in a blip: its entry lapses by itself if it is gone.
      if (current === undefined) continue;
      if (current !== incarnation) stale.push(node);
      else this.o.peers?.presence(node, change);
    }
    this.watchers.forget(change.userId, stale);
  }

  private deliver(change: PresenceChange, force: boolean): void {
    if (!this.table.apply(change, force)) return;
    const conns = this.table.watchersOf(change.userId);
    if (!conns) return;
    const frame: PresenceEvent = { ev: 'presence', user_id: change.userId, online: change.online, last_activity: change.lastActivity };
    const json = encodeFrame(frame, 'json');
    const mp = encodeFrame(frame, 'msgpack');
    for (const conn of conns) this.o.delivery.toConnection(conn, json, mp, null, 0);
  }
}

const OFFLINE: PresenceState = { online: false, lastActivity: null };

const entry = (userId: string, s: PresenceState): PresenceEntry => ({ user_id: userId, online: s.online, last_activity: s.lastActivity });
