/**
 * Who may change a stored message (msg.edit, msg.delete): its sender only. The
 * message is locked in the exclusive transaction first (store/message-changes.ts),
 * so the rules look at the row as the change will find it.
 */
import { forbidden, notFound } from '@whispr/protocol';
import { lockMessage, type MessageHead, type Queryable } from '@whispr/store';

/**
 * The caller's own message of this conversation, locked:
 * - not_found: no such message in this conversation, or one the caller deleted
 *   for themselves (hidden from them, as msg.get answers);
 * - forbidden: a system message (the service's own) or another member's.
 */
export async function lockOwnMessage(db: Queryable, conversationId: string, messageId: string, callerId: string): Promise<MessageHead> {
  const head = await lockMessage(db, conversationId, messageId);
  if (!head) throw notFound('message_id: no such message in this conversation');
  if (head.message_type === 'system') throw forbidden('system messages belong to the service');
  if (head.sender_id !== callerId) throw forbidden('only its sender may change a message');
  return head;
}

export const isTombstone = (head: MessageHead): boolean => head.is_deleted && head.delete_for_everyone;
/** Deleted by its sender for themselves: hidden from them, still shown to the others. */
export const isHiddenFromSender = (head: MessageHead): boolean => head.is_deleted && !head.delete_for_everyone;
