/**
 * Delivers a connecting user's offline queue (PROTOCOL.md §6): queued messages
 * arrive as msg.new before live ones of the same conversation. Live events for
 * the connection are held while the queue is read and sent, then released,
 * skipping the ones the queue already delivered. Entries stay queued until the
 * client acknowledges them with a receipt.
 */
import type { Redis } from 'ioredis';
import { decodeServerFrame, encodeFrame } from '@whispr/protocol';
import { readQueue, type RedisKeys } from '@whispr/store';
import type { Connection } from './connection.ts';
import type { EventDelivery } from './event-delivery.ts';
import type { Outgoing } from './outgoing.ts';

export async function drainOfflineQueue(conn: Connection, redis: Redis, keys: RedisKeys, outgoing: Outgoing, delivery: EventDelivery): Promise<number> {
  let sent = 0;
  try {
    const queued = await readQueue(redis, keys, conn.userId);
    if (queued.length > 0) conn.drained = new Set();
    for (const q of queued) {
      if (conn.closed) return sent;
      conn.drained?.add(`${q.conversationId}:${q.seq}`);
      const bytes =
        conn.enc === 1 ? encodeFrame(decodeServerFrame(Buffer.from(q.eventJson), 'json'), 'msgpack') : Buffer.from(q.eventJson);
      outgoing.write(conn, bytes, conn.enc === 1, true);
      sent++;
    }
  } finally {
    delivery.release(conn);
  }
  return sent;
}
