/**
 * The node's table of presence watches (presence.watch): which of this node's
 * connections watch which users, and the latest presence this node knows of each
 * watched user. Memory only: a watch belongs to its connection and dies with it;
 * the cluster learns only "this node watches user U" (store/presence.ts
 * PresenceWatchers), one entry per (user, node) however many connections watch.
 *
 * The known state decides what is delivered: a change that says what is already
 * known is not repeated, and a change older than the known one (by its time: two
 * nodes' announcements may cross on the bus) is not applied.
 */
import type { PresenceChange, PresenceState } from '@whispr/store';
import type { Connection } from './connection.ts';

interface Known {
  state: PresenceState;
  /** When the change it came from happened (0: from a read). */
  at: number;
  /** Changes applied so far: a watch whose read raced a change keeps the change. */
  version: number;
}

export class WatchTable {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byConn = new Map<Connection, Set<string>>();
  private readonly known = new Map<string, Known>();

  /** How many users the connection watches. */
  countOf(conn: Connection): number {
    return this.byConn.get(conn)?.size ?? 0;
  }

  /** How many of `users` the connection does not watch yet. */
  newFor(conn: Connection, users: readonly string[]): number {
    const mine = this.byConn.get(conn);
    return mine ? users.filter((u) => !mine.has(u)).length : users.length;
  }

  /** The connection watches `users` from now on; returns those this node did not watch before. */
  add(conn: Connection, users: readonly string[]): string[] {
    let mine = this.byConn.get(conn);
    if (!mine) this.byConn.set(conn, (mine = new Set()));
    const fresh: string[] = [];
    for (const u of users) {
      mine.add(u);
      let set = this.byUser.get(u);
      if (!set) {
        this.byUser.set(u, (set = new Set()));
        fresh.push(u);
      }
      set.add(conn);
    }
    return fresh;
  }

  /** The connection stops watching `users`; returns those no connection of this node watches any more. */
  remove(conn: Connection, users: Iterable<string>): string[] {
    const mine = this.byConn.get(conn);
    if (!mine) return [];
    const gone: string[] = [];
    for (const u of users) {
      if (!mine.delete(u)) continue;
      const set = this.byUser.get(u);
      set?.delete(conn);
      if (set && set.size === 0) {
        this.byUser.delete(u);
        this.known.delete(u);
        gone.push(u);
      }
    }
    if (mine.size === 0) this.byConn.delete(conn);
    return gone;
  }

  /** The connection closed: every watch of it goes; returns the users no connection of this node watches any more. */
  drop(conn: Connection): string[] {
    const mine = this.byConn.get(conn);
    return mine ? this.remove(conn, [...mine]) : [];
  }

  watchersOf(user: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(user);
  }

  /** Every user some connection of this node watches. */
  users(): string[] {
    return [...this.byUser.keys()];
  }

  versionOf(user: string): number {
    return this.known.get(user)?.version ?? 0;
  }

  stateOf(user: string): PresenceState | undefined {
    return this.known.get(user)?.state;
  }

  /** A watch's fresh read: it becomes the known state unless a change was applied while it was read. */
  settle(user: string, read: PresenceState, versionBefore: number): PresenceState {
    if (!this.byUser.has(user)) return read;
    const k = this.known.get(user);
    if (k && k.version !== versionBefore) return k.state;
    this.known.set(user, { state: read, at: k?.at ?? 0, version: k?.version ?? 0 });
    return read;
  }

  /**
   * Applies a change; true when the watchers should hear of it (someone here
   * watches the user, and it is news). `force`: a fresh read of Redis, applied
   * whatever its time (a node's death leaves no announcement to order it by).
   */
  apply(change: PresenceChange, force = false): boolean {
    if (!this.byUser.has(change.userId)) return false;
    const k = this.known.get(change.userId);
    if (k && k.state.online === change.online) return false;
    if (k && !force && change.at < k.at) return false;
    this.known.set(change.userId, { state: { online: change.online, lastActivity: change.lastActivity }, at: change.at, version: (k?.version ?? 0) + 1 });
    return true;
  }
}
