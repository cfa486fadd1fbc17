/**
 * Changes to a stored message (msg.edit, msg.delete), in the actor's exclusive
 * transaction (actors/exclusive.ts): the message is locked first, so an edit and
 * a delete of it apply one after the other, and the rules are checked against
 * the row as it stands.
 */
import type { JsonObject, MessageType } from '@whispr/protocol';
import { deleteAttachments } from './attachments.ts';
import { msToTimestamp, type Queryable } from './queryable.ts';

/** What the rules of edit and delete look at. */
export interface MessageHead {
  id: string;
  seq: number;
  sender_id: string;
  message_type: MessageType;
  is_deleted: boolean;
  delete_for_everyone: boolean;
}

/** The message, locked until the transaction ends; null when it is not a message of this conversation. */
export async function lockMessage(db: Queryable, conversationId: string, messageId: string): Promise<MessageHead | null> {
  const result = await db.query<MessageHead>(
    `SELECT id, seq, sender_id, message_type, is_deleted, delete_for_everyone
       FROM messages WHERE id = $1 AND conversation_id = $2 FOR UPDATE`,
    [messageId, conversationId],
  );
  return result.rows[0] ?? null;
}

/** New content and metadata, edited_at = `at`. */
export async function editMessage(db: Queryable, messageId: string, content: Uint8Array, metadata: JsonObject, at: number): Promise<void> {
  await db.query(`UPDATE messages SET content = $2, metadata = $3, edited_at = ${msToTimestamp('$4')} WHERE id = $1`, [
    messageId, Buffer.from(content.buffer, content.byteOffset, content.byteLength), metadata, at,
  ]);
}

/** The tombstone (PROTOCOL.md §4): same id and seq, content and metadata cleared, attachments gone. */
export async function deleteForEveryone(db: Queryable, messageId: string): Promise<void> {
  await db.query(
    `UPDATE messages SET content = '\\x'::bytea, metadata = '{}'::jsonb, is_deleted = TRUE, delete_for_everyone = TRUE WHERE id = $1`,
    [messageId],
  );
  await deleteAttachments(db, messageId);
}

/** Hidden from its sender alone (the seed's is_deleted without delete_for_everyone). */
export async function deleteForSender(db: Queryable, messageId: string): Promise<void> {
  await db.query('UPDATE messages SET is_deleted = TRUE WHERE id = $1 AND NOT is_deleted', [messageId]);
}

/** Whether any of `blockerIds` blocks `userId` (user_blocks, seed §5.2). */
export async function isBlockedByAny(db: Queryable, userId: string, blockerIds: string[]): Promise<boolean> {
  if (blockerIds.length === 0) return false;
  const result = await db.query('SELECT 1 FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::uuid[]) LIMIT 1', [userId, blockerIds]);
  return (result.rowCount ?? 0) > 0;
}
