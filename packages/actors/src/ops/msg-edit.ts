/**
 * msg.edit (PROTOCOL.md §5): the message's sender only, with the content and
 * metadata limits of msg.send. Refused with `forbidden`: another member's
 * message, a system message, a tombstone (deleted for everyone: there is nothing
 * left to edit), and in a direct conversation an editor whom the other member
 * blocks (an edit is new content reaching them). A message its sender deleted
 * for themselves is `not_found` to them, as msg.get says. Sets content,
 * metadata and edited_at in one fenced transaction; after commit, the reply
 * {edited_at} and msg.edited to every active member.
 */
import { forbidden, notFound, type EditResult, type MsgEditedEvent } from '@whispr/protocol';
import { editMessage, isBlockedByAny } from '@whispr/store';
import { checkMessageSize } from './message-limits.ts';
import { isHiddenFromSender, isTombstone, lockOwnMessage } from './message-rules.ts';
import type { ConversationOp } from './op.ts';

export const msgEdit: ConversationOp<'msg.edit'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<EditResult> {
    const metadata = checkMessageSize(actor.ctx.limits, req.content, req.metadata);
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const head = await lockOwnMessage(tx.client, actor.conversationId, req.message_id, caller.userId);
      if (isHiddenFromSender(head)) throw notFound('message_id: no such message in this conversation');
      if (isTombstone(head)) throw forbidden('a message deleted for everyone cannot be edited');
      if (state.row.type === 'direct') {
        const others = state.activeMemberIds().filter((u) => u !== caller.userId);
        if (await isBlockedByAny(tx.client, caller.userId, others)) throw forbidden('blocked by the other member of this conversation');
      }
      const editedAt = Date.now();
      await editMessage(tx.client, head.id, req.content, metadata, editedAt);
      const members = state.activeMemberIds();
      tx.onCommit(() => {
        actor.knownMessages.add(head.id);
        const event: MsgEditedEvent = {
          ev: 'msg.edited', conversation_id: actor.conversationId, message_id: head.id, seq: head.seq, content: req.content, metadata, edited_at: editedAt,
        };
        // A queued copy would deliver the old content: it goes, and sync brings the edited one.
        actor.ctx.fanout.messageChanged(members, event, actor.conversationId, head.seq);
      });
      return { edited_at: editedAt };
    });
  },
};
