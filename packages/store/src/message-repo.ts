/** Reads of messages: history pages, sync ranges, last messages, idempotency look-ups. */
import { visibleTo } from './message-visibility.ts';
import { messageColumns, type MessageRow } from './rows.ts';
import type { Queryable } from './queryable.ts';

/** Up to `limit` messages just below `beforeSeq` (or the newest), ascending, plus whether more exist. */
export async function historyPage(
  db: Queryable,
  conversationId: string,
  viewerId: string,
  beforeSeq: number | null,
  limit: number,
): Promise<{ rows: MessageRow[]; hasMore: boolean }> {
  const result = await db.query<MessageRow>(
    `SELECT ${messageColumns('m', '$2')} FROM messages m
      WHERE m.conversation_id = $1 AND ($3::int8 IS NULL OR m.seq < $3) AND ${visibleTo('m', '$2')}
      ORDER BY m.seq DESC LIMIT $4`,
    [conversationId, viewerId, beforeSeq, limit + 1],
  );
  const hasMore = result.rows.length > limit;
  const rows = result.rows.slice(0, limit).reverse();
  return { rows, hasMore };
}

export interface SyncAccess {
  conversation_id: string;
  exists: boolean;
  is_member: boolean;
  last_seq: number;
}

/** For each conversation: whether it exists, whether the user is an active member, its last seq. */
export async function syncAccess(db: Queryable, userId: string, conversationIds: string[]): Promise<SyncAccess[]> {
  const result = await db.query<SyncAccess>(
    `SELECT q.id AS conversation_id, (c.id IS NOT NULL) AS exists,
            COALESCE(m.is_active, false) AS is_member, COALESCE(c.last_seq, 0)::int8 AS last_seq
       FROM unnest($2::uuid[]) AS q(id)
       LEFT JOIN conversations c ON c.id = q.id
       LEFT JOIN conversation_members m ON m.conversation_id = q.id AND m.user_id = $1`,
    [userId, conversationIds],
  );
  return result.rows;
}

/** Messages after each cursor, at most `limitPerConversation + 1` each (the extra one says "more"). */
export async function syncRanges(
  db: Queryable,
  viewerId: string,
  cursors: { conversationId: string; afterSeq: number }[],
  limitPerConversation: number,
): Promise<MessageRow[]> {
  if (cursors.length === 0) return [];
  const result = await db.query<MessageRow>(
    `SELECT r.* FROM unnest($2::uuid[], $3::int8[]) AS q(cid, after_seq)
       CROSS JOIN LATERAL (
         SELECT ${messageColumns('m', '$1')} FROM messages m
          WHERE m.conversation_id = q.cid AND m.seq > q.after_seq AND ${visibleTo('m', '$1')}
          ORDER BY m.seq LIMIT $4) r`,
    [viewerId, cursors.map((c) => c.conversationId), cursors.map((c) => c.afterSeq), limitPerConversation + 1],
  );
  return result.rows;
}

/** The newest message of each conversation. */
export async function lastMessages(db: Queryable, viewerId: string, conversationIds: string[]): Promise<MessageRow[]> {
  if (conversationIds.length === 0) return [];
  const result = await db.query<MessageRow>(
    `SELECT r.* FROM unnest($2::uuid[]) AS q(cid)
       CROSS JOIN LATERAL (
         SELECT ${messageColumns('m', '$1')} FROM messages m
          WHERE m.conversation_id = q.cid AND ${visibleTo('m', '$1')} ORDER BY m.seq DESC LIMIT 1) r`,
    [viewerId, conversationIds],
  );
  return result.rows;
}

/** One message of this conversation as `viewerId` sees it; null when there is none or it is hidden from them. */
export async function getMessage(db: Queryable, conversationId: string, viewerId: string, messageId: string): Promise<MessageRow | null> {
  const result = await db.query<MessageRow>(
    `SELECT ${messageColumns('m', '$2')} FROM messages m
      WHERE m.id = $3 AND m.conversation_id = $1 AND ${visibleTo('m', '$2')}`,
    [conversationId, viewerId, messageId],
  );
  return result.rows[0] ?? null;
}

export interface ReceiptRow {
  user_id: string;
  delivered_at: number | null;
  read_at: number | null;
}

/** The delivery statuses of a message (one per member who was a recipient when it was sent), by user id. */
export async function messageReceipts(db: Queryable, messageId: string): Promise<ReceiptRow[]> {
  const result = await db.query<ReceiptRow>(
    'SELECT ds.user_id, ds.delivered_at, ds.read_at FROM delivery_statuses ds WHERE ds.message_id = $1 ORDER BY ds.user_id',
    [messageId],
  );
  return result.rows;
}

export interface ExistingSend {
  id: string;
  conversation_id: string;
  seq: number;
  sent_at: number;
  sender_id: string;
  client_random: number;
  content: Buffer;
}

/** Messages already stored for these (sender_id, client_random) pairs. */
export async function findExistingSends(db: Queryable, pairs: { senderId: string; clientRandom: number }[]): Promise<ExistingSend[]> {
  if (pairs.length === 0) return [];
  const result = await db.query<ExistingSend>(
    `SELECT m.id, m.conversation_id, m.seq, m.sent_at, m.sender_id, m.client_random, m.content
       FROM unnest($1::uuid[], $2::int4[]) AS q(sender_id, client_random)
       JOIN messages m ON m.sender_id = q.sender_id AND m.client_random = q.client_random`,
    [pairs.map((p) => p.senderId), pairs.map((p) => p.clientRandom)],
  );
  return result.rows;
}
