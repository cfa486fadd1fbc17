/**
 * sched.create, sched.cancel, sched.list (PROTOCOL.md §5): scheduled messages,
 * sent at their time by the jobs package through the conversation's owner as an
 * ordinary msg.send of their sender (jobs/scheduled-processor.ts).
 *
 * - sched.create: every active member may. scheduled_for at least 1 s ahead (and at
 *   most SCHEDULE_MAX_AHEAD_MS); content and metadata within the limits of a
 *   message. The row is written in the conversation's fenced transaction, then
 *   the delayed job is added (its id the row's), then the reply: a reply means
 *   the message will be sent. Idempotent per (sender, client_random): a retry
 *   (also after a failed job add) returns the same row and adds its job again,
 *   which is then one job. A client_random the sender already used for a message
 *   gets `conflict` (the send could only conflict at its time).
 * - sched.cancel: every active member, and only the sender of that scheduled
 *   message (anyone else: forbidden); not_found when it is no scheduled message
 *   of this conversation or is not pending any more (sent, cancelled, failed).
 *   In the conversation's line, after the writes handed over before it: it
 *   decides the race with a due send (ops/scheduled-send.ts).
 * - sched.list: the caller's pending ones, soonest first, at most SCHED_LIST_MAX;
 *   with conversation_id, of that conversation only (not_found / forbidden as
 *   for any conversation op). Routed on the user; read from PostgreSQL.
 */
import {
  ConversationNotFoundError, SCHED_LIST_MAX, SCHEDULE_MAX_AHEAD_MS, SCHEDULE_MIN_AHEAD_MS, badRequest, conflict, forbidden, notFound, tooLarge, unavailable,
  type ScheduledMessage,
} from '@whispr/protocol';
import { cancelScheduled, clientRandomUsed, getScheduled, insertScheduled, listPendingScheduled, membershipOf, newId, type ScheduledRow } from '@whispr/store';
import type { ConversationOp, UserOp } from './op.ts';

export function toScheduledMessage(row: ScheduledRow): ScheduledMessage {
  return {
    id: row.id,
    conversation_id: row.conversation_id,
    scheduled_for: row.scheduled_for,
    created_at: row.created_at,
    client_random: row.client_random,
    type: row.message_type,
    content: row.content,
    metadata: row.metadata,
  };
}

export const schedCreate: ConversationOp<'sched.create'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req) {
    const now = Date.now();
    if (req.scheduled_for < now + SCHEDULE_MIN_AHEAD_MS) throw badRequest('scheduled_for', `must be at least ${SCHEDULE_MIN_AHEAD_MS} ms ahead`);
    if (req.scheduled_for > now + SCHEDULE_MAX_AHEAD_MS) throw badRequest('scheduled_for', `must be at most ${SCHEDULE_MAX_AHEAD_MS} ms ahead`);
    const { limits } = actor.ctx;
    if (req.content.byteLength > limits.max_content_bytes) throw tooLarge('content', `over ${limits.max_content_bytes} bytes`);
    const metadata = req.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > limits.max_metadata_bytes) throw tooLarge('metadata', `over ${limits.max_metadata_bytes} bytes`);
    const row = await actor.exclusive(caller, 'member', async (tx) => {
      const { row: stored, created } = await insertScheduled(tx.client, {
        id: newId(), conversationId: actor.conversationId, senderId: caller.userId, type: req.type, content: req.content, metadata,
        clientRandom: req.client_random, scheduledFor: req.scheduled_for, createdAt: now,
      });
      if (created && (await clientRandomUsed(tx.client, caller.userId, req.client_random))) {
        throw conflict('client_random already used by this sender for a message');
      }
      if (!created && (stored.conversation_id !== actor.conversationId || stored.scheduled_for !== req.scheduled_for || !sameBytes(stored.content, req.content))) {
        throw conflict('client_random already used by this sender for a different scheduled message');
      }
      return stored;
    });
    try {
      await actor.ctx.jobs.scheduled.schedule(row.id, row.conversation_id, row.scheduled_for);
    } catch (err) {
      // The row is committed but has no job yet: retrying with the same client_random adds it.
      throw unavailable('the scheduled message could not be queued; retry with the same client_random', { cause: err });
    }
    return { scheduled: { id: row.id, scheduled_for: row.scheduled_for } };
  },
};

export const schedCancel: ConversationOp<'sched.cancel'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req) {
    await actor.exclusive(caller, 'member', async (tx) => {
      const row = await getScheduled(tx.client, req.scheduled_id);
      if (!row || row.conversation_id !== actor.conversationId) throw notFound('scheduled_id: no such scheduled message in this conversation');
      if (row.sender_id !== caller.userId) throw forbidden('only its sender may cancel a scheduled message');
      if (!(await cancelScheduled(tx.client, row.id))) throw notFound('scheduled_id: the scheduled message is not pending any more');
    });
    // Tidiness only: the row, now cancelled, is what keeps it from being sent.
    await actor.ctx.jobs.scheduled.unschedule(req.scheduled_id).catch((err: unknown) => {
      actor.ctx.logger.warn({ err, scheduled: req.scheduled_id }, 'cancelled scheduled message job not removed (it will find the row cancelled)');
    });
    return {};
  },
};

export const schedList: UserOp<'sched.list'> = {
  scope: 'user',
  async run(ctx, caller, req) {
    const conversationId = req.conversation_id ?? null;
    if (conversationId !== null) {
      const membership = await membershipOf(ctx.pg, conversationId, caller.userId);
      if (membership === 'missing') throw new ConversationNotFoundError();
      if (membership === 'not-member') throw forbidden('not an active member of this conversation');
    }
    const rows = await listPendingScheduled(ctx.pg, caller.userId, conversationId, SCHED_LIST_MAX);
    return { scheduled: rows.map(toScheduledMessage) };
  },
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
