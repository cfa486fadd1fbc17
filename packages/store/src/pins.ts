/**
 * pinned_messages (seed §2.2.5): at most one row per (conversation, message).
 *
 * As with reactions (reactions.ts), each write is one statement inside the
 * actor's fenced transaction, and the actor runs them one at a time, so the
 * count it reads cannot change before its insert.
 *
 * Pins of messages deleted for everyone are not listed, and do not count
 * against the cap: a client could not see them to unpin them.
 */
import { messageColumns, type MessageRow } from './rows.ts';
import type { Queryable } from './queryable.ts';

export interface PinChange {
  conversationId: string;
  messageId: string;
  userId: string;
}

export interface AddPin extends PinChange {
  /** In a direct conversation, the other member: their block of `userId` forbids the pin. Null in groups. */
  blockerId: string | null;
  maxPins: number;
}

/** What pinning did; `missing`: no such message in this conversation; `full`: the cap is reached. */
export type AddPinOutcome = 'pinned' | 'present' | 'missing' | 'tombstone' | 'blocked' | 'full';

export async function addPin(db: Queryable, p: AddPin): Promise<AddPinOutcome> {
  const result = await db.query<{ verdict: Exclude<AddPinOutcome, 'missing'> }>(
    `WITH target AS (
       SELECT (m.is_deleted AND m.delete_for_everyone) AS tombstone
         FROM messages m WHERE m.id = $1 AND m.conversation_id = $2
     ), decided AS (
       SELECT CASE
         WHEN t.tombstone THEN 'tombstone'
         WHEN $4::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = $4 AND b.blocked_id = $3) THEN 'blocked'
         WHEN EXISTS (SELECT 1 FROM pinned_messages p WHERE p.conversation_id = $2 AND p.message_id = $1) THEN 'present'
         WHEN (SELECT count(*) FROM pinned_messages p JOIN messages m ON m.id = p.message_id
                WHERE p.conversation_id = $2 AND NOT (m.is_deleted AND m.delete_for_everyone)) >= $5 THEN 'full'
         ELSE 'pinned' END AS verdict
         FROM target t
     ), inserted AS (
       INSERT INTO pinned_messages (conversation_id, message_id, pinned_by)
       SELECT $2, $1, $3 FROM decided WHERE verdict = 'pinned'
       RETURNING 1
     )
     SELECT verdict FROM decided`,
    [p.messageId, p.conversationId, p.userId, p.blockerId, p.maxPins],
  );
  return result.rows[0]?.verdict ?? 'missing';
}

export type RemovePinOutcome = 'unpinned' | 'absent' | 'missing';

/** Unpins the message if it is pinned; one that is not is not an error. */
export async function removePin(db: Queryable, p: PinChange): Promise<RemovePinOutcome> {
  const result = await db.query<{ found: boolean; removed: boolean }>(
    `WITH target AS (
       SELECT m.id FROM messages m WHERE m.id = $1 AND m.conversation_id = $2
     ), removed AS (
       DELETE FROM pinned_messages p USING target t
        WHERE p.conversation_id = $2 AND p.message_id = t.id
       RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM removed) AS removed`,
    [p.messageId, p.conversationId],
  );
  const row = result.rows[0];
  if (!row?.found) return 'missing';
  return row.removed ? 'unpinned' : 'absent';
}

export type PinRow = MessageRow & { pinned_by: string; pinned_at: number };

/**
 * The conversation's pins, most recently pinned first, with their messages as
 * `viewerId` sees them (reactions[].me), in one query. Left out: messages
 * deleted for everyone, and those the viewer deleted for themselves
 * (PROTOCOL.md §5: gone from the sender's own views).
 */
export async function listPins(db: Queryable, conversationId: string, viewerId: string, limit: number): Promise<PinRow[]> {
  const result = await db.query<PinRow>(
    `SELECT p.pinned_by, p.pinned_at, ${messageColumns('m', '$2')}
       FROM pinned_messages p JOIN messages m ON m.id = p.message_id
      WHERE p.conversation_id = $1
        AND NOT (m.is_deleted AND (m.delete_for_everyone OR m.sender_id = $2))
      ORDER BY p.pinned_at DESC, p.id
      LIMIT $3`,
    [conversationId, viewerId, limit],
  );
  return result.rows;
}
