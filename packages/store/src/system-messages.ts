/**
 * System messages: the service's own record, in the conversation's sequence, of
 * a change to the conversation (members added or removed, a member leaving:
 * PROTOCOL.md §4, "membership changes do" record a message). They take the next
 * seq like any message, so a client that syncs sees the change in order.
 *
 * A system message's sender is the conversation itself (its id), and its
 * client_random is its seq: (sender_id, client_random) stays unique without a
 * random draw, and no user's own idempotency keys are touched. Its content is
 * empty; its metadata says what happened (`action`, `by`, and the action's own
 * fields). It gets no delivery statuses: it is never unread (PROTOCOL.md §5).
 */
import type { JsonObject, Message } from '@whispr/protocol';
import { newId } from './ids.ts';
import { msToTimestamp, type Queryable } from './queryable.ts';

export interface NewSystemMessage {
  conversationId: string;
  seq: number;
  metadata: JsonObject;
  sentAt: number;
}

/** Inserts it in the caller's transaction (after the fence) and returns it as the wire message. */
export async function insertSystemMessage(db: Queryable, m: NewSystemMessage): Promise<Message> {
  const id = newId();
  await db.query(
    `INSERT INTO messages (id, conversation_id, seq, sender_id, message_type, content, metadata, client_random, sent_at)
     VALUES ($1, $2, $3, $2, 'system', '\\x'::bytea, $4, $5, ${msToTimestamp('$6')})`,
    [id, m.conversationId, m.seq, m.metadata, m.seq % 2147483647, m.sentAt],
  );
  return {
    id, conversation_id: m.conversationId, seq: m.seq, sender_id: m.conversationId, type: 'system', content: new Uint8Array(0),
    metadata: m.metadata, reply_to_id: null, client_random: m.seq % 2147483647, sent_at: m.sentAt, edited_at: null,
    is_deleted: false, delete_for_everyone: false, attachments: [], reactions: [],
  };
}
