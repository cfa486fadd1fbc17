/**
 * message_attachments (seed §2.2.7): references to media held by the
 * media-service, never the bytes. Rows are written with their message by the
 * group-commit batch (batch-statements.ts) and read with it (rows.ts,
 * messageColumns); a tombstone loses them here.
 */
import type { Queryable } from './queryable.ts';

/** Removes a message's attachments (a delete for everyone), in the caller's transaction. */
export async function deleteAttachments(db: Queryable, messageId: string): Promise<number> {
  const result = await db.query('DELETE FROM message_attachments WHERE message_id = $1', [messageId]);
  return result.rowCount ?? 0;
}
