/**
 * msg.history (PROTOCOL.md §5), for every active member; a page of at most history_max
 * messages in ascending seq, ending just below before_seq (or at the newest),
 * read once the writes handed over before it have committed.
 */
import { badRequest, type HistoryResult } from '@whispr/protocol';
import { historyPage, toMessage } from '@whispr/store';
import { settle } from '../conversation-actor.ts';
import type { ConversationOp } from './op.ts';

export const msgHistory: ConversationOp<'msg.history'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<HistoryResult> {
    const max = actor.ctx.limits.history_max;
    const limit = req.limit ?? Math.min(50, max);
    if (limit > max) throw badRequest('limit', `must be at most ${max}`);
    const barrier = await actor.serial(async () => {
      await actor.memberState(caller.userId);
      return { pending: actor.lastWrite };
    });
    await settle(barrier.pending);
    const page = await historyPage(actor.ctx.pg, actor.conversationId, caller.userId, req.before_seq ?? null, limit);
    actor.knownMessages.addAll(page.rows.map((r) => r.id));
    return { messages: page.rows.map(toMessage), has_more: page.hasMore };
  },
};
