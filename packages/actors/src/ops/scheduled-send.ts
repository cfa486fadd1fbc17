/**
 * The check a scheduled message's send makes in its conversation's line
 * (msg.send with scheduled_id, internal calls only): the row exists, is this
 * conversation's and this sender's, with the same client_random, and is not
 * cancelled or failed. sched.cancel runs in the same line and waits for the
 * writes handed over before it, so a send that passed this check commits
 * before any cancel can look at the row, and a cancel that committed first is
 * seen here: the conversation's order decides the race, and the batch marks the
 * row sent in the message's own commit (store/batch-statements.ts).
 *
 * A row already sent passes: the send is then answered `duplicate` by
 * msg.send's idempotency, and nothing is stored twice.
 */
import { notFound, type RequestOf } from '@whispr/protocol';
import { getScheduled } from '@whispr/store';
import type { Caller, ConversationActor } from '../conversation-actor.ts';

export async function checkScheduledSend(actor: ConversationActor, caller: Caller, req: RequestOf<'msg.send'>, scheduledId: string): Promise<void> {
  const row = await getScheduled(actor.ctx.pg, scheduledId);
  if (!row || row.conversation_id !== actor.conversationId || row.sender_id !== caller.userId || row.client_random !== req.client_random) {
    throw notFound('scheduled_id: no such scheduled message of this sender in this conversation');
  }
  if (row.is_cancelled) throw notFound('scheduled_id: the scheduled message was cancelled');
  if (row.failed_at !== null) throw notFound('scheduled_id: the scheduled message has failed');
}
