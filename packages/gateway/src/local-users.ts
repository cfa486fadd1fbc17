/** The connections of each user on this node: where a user's events are written. */
import type { Connection } from './connection.ts';

export class LocalUsers {
  private readonly byUser = new Map<string, Set<Connection>>();

  add(conn: Connection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(conn.userId, set);
    }
    set.add(conn);
  }

  remove(conn: Connection): void {
    const set = this.byUser.get(conn.userId);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.byUser.delete(conn.userId);
  }

  get(userId: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(userId);
  }
}
