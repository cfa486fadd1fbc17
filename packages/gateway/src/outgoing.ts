/**
 * Writes to sockets, with backpressure (PROTOCOL.md §3 "Slow readers").
 *
 * Events are never dropped from an open connection: uWebSockets.js is given a
 * hard backpressure limit far above the service's bound so it never skips a
 * message, and the service itself closes a connection with 4008 when its unsent
 * backlog passes the bound (WHISPR_SOCKET_BACKLOG_BYTES) at the moment an event
 * is due. Replies to the connection's own requests are written up to four
 * times that bound (their number is bounded by the in-flight limit, and one
 * reply may be large): past it the client is not reading its own replies and is
 * closed the same way. A slow reader never slows the senders.
 *
 * Writes to one socket within a turn are corked together into one syscall.
 * They are flushed from setImmediate, never from a microtask: microtasks can run
 * while uWebSockets.js still has another socket corked inside its own callback,
 * and corking a second socket then can interleave their output (seen as clients
 * dropped with 1006 during the handshake, about 1 in 700 connects).
 */
import { CloseCode } from '@whispr/protocol';
import type { Connection } from './connection.ts';

const SLOW_CONSUMER: number = CloseCode.SlowConsumer;

type Write = [bytes: Uint8Array, binary: boolean, event: boolean];

export interface OutgoingOptions {
  backlogBytes: number;
  onSlowConsumer(conn: Connection): void;
}

export class Outgoing {
  private batches = new Map<Connection, Write[]>();
  private scheduled = false;

  constructor(private readonly options: OutgoingOptions) {}

  write(conn: Connection, bytes: Uint8Array, binary: boolean, event: boolean): void {
    if (conn.closed || conn.closing?.code === SLOW_CONSUMER) return;
    let list = this.batches.get(conn);
    if (!list) {
      list = [];
      this.batches.set(conn, list);
    }
    list.push([bytes, binary, event]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is waiting for this one connection now (before its close frame). */
  flushConnection(conn: Connection): void {
    const writes = this.batches.get(conn);
    if (!writes) return;
    this.batches.delete(conn);
    this.flushOne(conn, writes);
  }

  /** Forgets what is waiting for a connection that will not read it (a slow reader being closed). */
  discard(conn: Connection): void {
    this.batches.delete(conn);
  }

  flush(): void {
    this.scheduled = false;
    if (this.batches.size === 0) return;
    // Swapped, not copied: flushOne may close a slow connection, whose clean-up can write again.
    const batches = this.batches;
    this.batches = new Map();
    for (const [conn, writes] of batches) this.flushOne(conn, writes);
  }

  private flushOne(conn: Connection, writes: Write[]): void {
    const ws = conn.ws;
    if (conn.closed || !ws) return;
    const bound = this.options.backlogBytes;
    let slow = false;
    ws.cork(() => {
      for (const [bytes, binary, event] of writes) {
        if (ws.getBufferedAmount() > (event ? bound : bound * 4)) {
          slow = true;
          return;
        }
        // 2 = dropped: only possible past the hard limit, which the bound keeps us far from.
        if (ws.send(bytes, binary) === 2) {
          slow = true;
          return;
        }
      }
    });
    if (slow) this.options.onSlowConsumer(conn);
  }
}
