/**
 * Writes events to this node's connections (PROTOCOL.md §6): each connection gets
 * the encoding it asked for; a connection still receiving its offline queue has
 * its live events held (bounded) and released after it, skipping the ones the
 * queue already delivered.
 */
import { CloseCode, decodeServerFrame, encodeFrame } from '@whispr/protocol';
import type { Connection } from './connection.ts';
import type { LocalUsers } from './local-users.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Outgoing } from './outgoing.ts';

export class EventDelivery {
  constructor(
    private readonly users: LocalUsers,
    private readonly outgoing: Outgoing,
    private readonly metrics: GatewayMetrics,
    private readonly close: (conn: Connection, code: number, reason: string) => void,
  ) {}

  /** To every connection of these users on this node. */
  toUsers(users: readonly string[], json: Uint8Array, mp: Uint8Array, conversationId: string | null, seq: number): void {
    for (const user of users) {
      const conns = this.users.get(user);
      if (!conns) continue;
      for (const conn of conns) this.toConnection(conn, json, mp, conversationId, seq);
    }
  }

  toConnection(conn: Connection, json: Uint8Array, mp: Uint8Array, conversationId: string | null, seq: number): void {
    if (conn.closed || conn.closing) return;
    if (conn.draining) {
      conn.heldBytes += Math.max(json.byteLength, mp.byteLength);
      if (conn.heldBytes > conn.heldLimit) {
        // Its offline queue is still being read and live events keep coming: a reader
        // this far behind reconnects and syncs, like every slow reader.
        this.close(conn, CloseCode.SlowConsumer, 'too many events while the offline queue was delivered: reconnect and sync');
        return;
      }
      conn.held.push({ json, mp, conversationId, seq });
      return;
    }
    if (conn.drained && conversationId !== null && conn.drained.has(`${conversationId}:${seq}`)) return;
    this.metrics.events.inc();
    const binary = conn.enc === 1;
    let bytes = binary ? mp : json;
    if (bytes.byteLength === 0) {
      // The worker skipped an encoding no connection used; this one arrived since. Rare: convert.
      bytes = binary ? encodeFrame(decodeServerFrame(json, 'json'), 'msgpack') : encodeFrame(decodeServerFrame(mp, 'msgpack'), 'json');
    }
    this.outgoing.write(conn, bytes, binary, true);
  }

  /** The offline queue is delivered: release what was held for the connection. */
  release(conn: Connection): void {
    conn.draining = false;
    const held = conn.held;
    conn.held = [];
    conn.heldBytes = 0;
    for (const ev of held) this.toConnection(conn, ev.json, ev.mp, ev.conversationId, ev.seq);
  }
}
