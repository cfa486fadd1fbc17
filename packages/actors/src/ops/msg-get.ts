/**
 * msg.get and msg.receipts (PROTOCOL.md §5), for every active member, about one
 * message of THIS conversation. A message_id of another conversation, or one
 * the caller deleted for themselves, is not_found (the same answer as an id
 * that names nothing: the reply never tells which). Read from PostgreSQL after
 * the writes handed over before them have committed.
 */
import { notFound, type MessageResult, type ReceiptsResult } from '@whispr/protocol';
import { getMessage, messageReceipts, toMessage } from '@whispr/store';
import type { ConversationOp } from './op.ts';
import { afterPriorWrites } from './read-barrier.ts';

const noSuchMessage = (): Error => notFound('message_id: no such message in this conversation');

export const msgGet: ConversationOp<'msg.get'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<MessageResult> {
    await afterPriorWrites(actor, caller, 'member');
    const row = await getMessage(actor.ctx.pg, actor.conversationId, caller.userId, req.message_id);
    if (!row) throw noSuchMessage();
    actor.knownMessages.add(row.id);
    return { message: toMessage(row) };
  },
};

/** One delivery status per member who was a recipient when it was sent (the sender has none). */
export const msgReceipts: ConversationOp<'msg.receipts'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<ReceiptsResult> {
    await afterPriorWrites(actor, caller, 'member');
    const row = await getMessage(actor.ctx.pg, actor.conversationId, caller.userId, req.message_id);
    if (!row) throw noSuchMessage();
    actor.knownMessages.add(row.id);
    const receipts = await messageReceipts(actor.ctx.pg, row.id);
    return { receipts: receipts.map((r) => ({ user_id: r.user_id, delivered_at: r.delivered_at, read_at: r.read_at })) };
  },
};
