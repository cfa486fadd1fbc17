/**
 * msg.delete (PROTOCOL.md §5): the message's sender only (another member's or
 * a system message: `forbidden`). The seed's two flags (§2.2.3) say which:
 * - for_everyone: a tombstone (same id and seq, content and metadata cleared,
 *   attachments removed, is_deleted and delete_for_everyone set); msg.deleted to
 *   every active member. Allowed after a delete for oneself too (the sender
 *   then also takes it back from the others).
 * - otherwise: hidden from the sender alone (is_deleted only): gone from their
 *   msg.history, msg.get and sync, still shown (and unread) to the others;
 *   msg.deleted to the sender's own connections only.
 * Idempotent: deleting what is already deleted that way (or a tombstone, either
 * way) answers {} and changes nothing, announces nothing.
 */
import type { EmptyResult, MsgDeletedEvent } from '@whispr/protocol';
import { deleteForEveryone, deleteForSender } from '@whispr/store';
import { isHiddenFromSender, isTombstone, lockOwnMessage } from './message-rules.ts';
import type { ConversationOp } from './op.ts';

export const msgDelete: ConversationOp<'msg.delete'> = {
  scope: 'conversation',
  access: 'member',
  run(actor, caller, req): Promise<EmptyResult> {
    const forEveryone = req.for_everyone === true;
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const head = await lockOwnMessage(tx.client, actor.conversationId, req.message_id, caller.userId);
      if (isTombstone(head) || (!forEveryone && isHiddenFromSender(head))) return {};
      if (forEveryone) await deleteForEveryone(tx.client, head.id);
      else await deleteForSender(tx.client, head.id);
      const recipients = forEveryone ? state.activeMemberIds() : [caller.userId];
      tx.onCommit(() => {
        const event: MsgDeletedEvent = { ev: 'msg.deleted', conversation_id: actor.conversationId, message_id: head.id, seq: head.seq, for_everyone: forEveryone };
        // Offline members must not get the old content from their queue (fanout.ts messageChanged).
        if (forEveryone) actor.ctx.fanout.messageChanged(recipients, event, actor.conversationId, head.seq);
        else actor.ctx.fanout.event(recipients, event);
      });
      return {};
    });
  },
};
