/**
 * A message's metadata for other services (the internal API's
 * GetMessageMetadata, seed §4.3 "accès restreint aux métadonnées"): never its
 * content, its metadata object or its attachments' media references, only what
 * describes the message from outside.
 */
import type { MessageType } from '@whispr/protocol';
import type { Queryable } from './queryable.ts';

export interface MessageMetadataRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  type: MessageType;
  reply_to_id: string | null;
  sent_at: number;
  edited_at: number | null;
  is_deleted: boolean;
  delete_for_everyone: boolean;
  attachment_count: number;
}

/** What a look-up found: the message, or which of the two ids names nothing. */
export type MessageMetadataLookup =
  | { found: 'message'; message: MessageMetadataRow }
  | { found: 'conversation' }
  | { found: 'nothing' };

/**
 * The metadata of `messageId` if it is a message of `conversationId`. One
 * statement: the conversation's row decides not_found for it, the join whether
 * the message is one of its own (a message of another conversation is none).
 */
export async function messageMetadata(db: Queryable, conversationId: string, messageId: string): Promise<MessageMetadataLookup> {
  const result = await db.query<{ message: MessageMetadataRow | null }>(
    `SELECT CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object(
              'id', m.id, 'conversation_id', m.conversation_id, 'seq', m.seq, 'sender_id', m.sender_id,
              'type', m.message_type, 'reply_to_id', m.reply_to_id,
              'sent_at', (extract(epoch FROM m.sent_at) * 1000)::int8,
              'edited_at', (extract(epoch FROM m.edited_at) * 1000)::int8,
              'is_deleted', m.is_deleted, 'delete_for_everyone', m.delete_for_everyone,
              'attachment_count', (SELECT count(*) FROM message_attachments a WHERE a.message_id = m.id)
            ) END AS message
       FROM conversations c
       LEFT JOIN messages m ON m.conversation_id = c.id AND m.id = $2
      WHERE c.id = $1`,
    [conversationId, messageId],
  );
  const row = result.rows[0];
  if (!row) return { found: 'nothing' };
  return row.message ? { found: 'message', message: row.message } : { found: 'conversation' };
}
