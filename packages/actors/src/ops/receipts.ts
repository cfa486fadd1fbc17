/**
 * receipt.delivered / receipt.read (PROTOCOL.md §5), for every active member, for the
 * messages up to up_to_seq that others sent (read implies delivered; read also
 * moves the member's last_read_at). A receipt that changes nothing still waits
 * for the writes handed over before it. Covered entries leave the caller's
 * offline queue.
 */
import { forbidden, type EmptyResult } from '@whispr/protocol';
import type { Caller, ConversationActor } from '../conversation-actor.ts';
import type { ConversationOp } from './op.ts';

async function receipt(actor: ConversationActor, caller: Caller, kind: 'delivered' | 'read', upToSeq: number): Promise<EmptyResult> {
  const handed = await actor.serial(async () => {
    const state = await actor.memberState(caller.userId);
    const member = state.members.get(caller.userId);
    if (!member) throw forbidden('not an active member of this conversation');
    const upTo = Math.min(upToSeq, actor.committedSeq);
    const fromSeq = kind === 'read' ? member.lastReadSeq : member.lastDeliveredSeq;
    // Nothing new, but an earlier receipt covering it may still be committing:
    // the reply must not come before it (a request sent after it must see it).
    if (upTo <= fromSeq) return { upTo, commit: null, pending: actor.lastWrite };
    actor.checkRoom();
    const at = Date.now();
    const readTo = kind === 'read' ? upTo : member.lastReadSeq;
    member.lastDeliveredSeq = Math.max(member.lastDeliveredSeq, upTo);
    if (kind === 'read') {
      member.lastReadSeq = upTo;
      member.lastReadAt = at;
    }
    const commit = actor.track(actor.ctx.writer.receipt({ counter: actor, userId: caller.userId, fromSeq, toSeq: upTo, readToSeq: readTo, at }));
    return { upTo, commit, at, members: state.activeMemberIds() };
  });
  if (!handed.commit) {
    await actor.awaitCommit(handed.pending);
  } else {
    await actor.awaitCommit(handed.commit);
    actor.ctx.fanout.event(handed.members, {
      ev: 'receipt',
      conversation_id: actor.conversationId,
      user_id: caller.userId,
      kind,
      up_to_seq: handed.upTo,
      at: handed.at,
    });
  }
  await actor.ctx.fanout.acknowledge(caller.userId, actor.conversationId, upToSeq);
  return {};
}

export const receiptDelivered: ConversationOp<'receipt.delivered'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller, req) => receipt(actor, caller, 'delivered', req.up_to_seq),
};

export const receiptRead: ConversationOp<'receipt.read'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller, req) => receipt(actor, caller, 'read', req.up_to_seq),
};
