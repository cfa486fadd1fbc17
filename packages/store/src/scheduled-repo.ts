/**
 * scheduled_messages (seed §2.2.9, migration 0009): the rows behind sched.create,
 * sched.cancel and sched.list, and what the scheduled-message job reads and
 * marks. The send itself marks a row sent inside the message's own batch
 * (batch-statements.ts); everything here is outside that path.
 */
import type { JsonObject, MessageType } from '@whispr/protocol';
import { msToTimestamp, type Queryable } from './queryable.ts';

export interface ScheduledRow {
  id: string;
  conversation_id: string;
  sender_id: string;
  message_type: MessageType;
  content: Uint8Array;
  metadata: JsonObject;
  client_random: number;
  scheduled_for: number;
  created_at: number;
  is_sent: boolean;
  is_cancelled: boolean;
  message_id: string | null;
  failed_at: number | null;
  failure: string | null;
}

export interface NewScheduled {
  id: string;
  conversationId: string;
  senderId: string;
  type: MessageType;
  content: Uint8Array;
  metadata: JsonObject;
  clientRandom: number;
  scheduledFor: number;
  createdAt: number;
}

const COLUMNS = `id, conversation_id, sender_id, message_type, content, metadata, client_random, scheduled_for, created_at,
  is_sent, is_cancelled, message_id, failed_at, failure`;

/** Pending: not sent, not cancelled, not failed. */
export const isPending = (row: ScheduledRow): boolean => !row.is_sent && !row.is_cancelled && row.failed_at === null;

/**
 * Inserts a scheduled message; one with the same (sender, client_random) already
 * there is returned instead (`created` false): sched.create is idempotent as msg.send is.
 */
export async function insertScheduled(q: Queryable, s: NewScheduled): Promise<{ row: ScheduledRow; created: boolean }> {
  const inserted = await q.query<ScheduledRow>(
    `INSERT INTO scheduled_messages (id, conversation_id, sender_id, message_type, content, metadata, client_random, scheduled_for, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, ${msToTimestamp('$8')}, ${msToTimestamp('$9')})
     ON CONFLICT (sender_id, client_random) DO NOTHING
     RETURNING ${COLUMNS}`,
    [s.id, s.conversationId, s.senderId, s.type, Buffer.from(s.content.buffer, s.content.byteOffset, s.content.byteLength), JSON.stringify(s.metadata), s.clientRandom, s.scheduledFor, s.createdAt],
  );
  const row = inserted.rows[0];
  if (row) return { row, created: true };
  const existing = await q.query<ScheduledRow>(`SELECT ${COLUMNS} FROM scheduled_messages WHERE sender_id = $1 AND client_random = $2`, [s.senderId, s.clientRandom]);
  const found = existing.rows[0];
  if (!found) throw new Error('scheduled message neither inserted nor found for its (sender, client_random)');
  return { row: found, created: false };
}

export async function getScheduled(q: Queryable, id: string): Promise<ScheduledRow | null> {
  const r = await q.query<ScheduledRow>(`SELECT ${COLUMNS} FROM scheduled_messages WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

/** Cancels a pending one; false when it is not pending any more (sent, cancelled or failed). */
export async function cancelScheduled(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`UPDATE scheduled_messages SET is_cancelled = TRUE WHERE id = $1 AND NOT is_sent AND NOT is_cancelled AND failed_at IS NULL`, [id]);
  return (r.rowCount ?? 0) > 0;
}

/** The sender's pending ones, soonest first, in one conversation or all. */
export async function listPendingScheduled(q: Queryable, senderId: string, conversationId: string | null, limit: number): Promise<ScheduledRow[]> {
  const r = await q.query<ScheduledRow>(
    `SELECT ${COLUMNS} FROM scheduled_messages
      WHERE sender_id = $1 AND ($2::uuid IS NULL OR conversation_id = $2) AND NOT is_sent AND NOT is_cancelled AND failed_at IS NULL
      ORDER BY scheduled_for, id LIMIT $3`,
    [senderId, conversationId, limit],
  );
  return r.rows;
}

/** Marks a pending one failed, with why (it will not be sent). */
export async function markScheduledFailed(q: Queryable, id: string, failure: string, at: number): Promise<boolean> {
  const r = await q.query(
    `UPDATE scheduled_messages SET failed_at = ${msToTimestamp('$3')}, failure = $2 WHERE id = $1 AND NOT is_sent AND NOT is_cancelled AND failed_at IS NULL`,
    [id, failure, at],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * Marks a pending one sent by a message already stored (its send was answered
 * `duplicate`: the same sender, client_random and content were committed before,
 * by an earlier attempt whose batch did mark it, or by the sender's own msg.send).
 */
export async function markScheduledSentBy(q: Queryable, id: string, messageId: string): Promise<void> {
  await q.query(`UPDATE scheduled_messages SET is_sent = TRUE, message_id = $2 WHERE id = $1 AND NOT is_sent AND NOT is_cancelled`, [id, messageId]);
}

/** Whether the sender already used this client_random for a message (sched.create refuses it: the send would be a conflict). */
export async function clientRandomUsed(q: Queryable, senderId: string, clientRandom: number): Promise<boolean> {
  const r = await q.query('SELECT 1 FROM messages WHERE sender_id = $1 AND client_random = $2 LIMIT 1', [senderId, clientRandom]);
  return (r.rowCount ?? 0) > 0;
}

/** Whether the conversation exists and the user is an active member of it (sched.list's filter, which runs on the user's shard, not the conversation's). */
export async function membershipOf(q: Queryable, conversationId: string, userId: string): Promise<'missing' | 'not-member' | 'member'> {
  const r = await q.query<{ active: boolean | null }>(
    `SELECT (SELECT cm.is_active FROM conversation_members cm WHERE cm.conversation_id = c.id AND cm.user_id = $2) AS active
       FROM conversations c WHERE c.id = $1`,
    [conversationId, userId],
  );
  const row = r.rows[0];
  if (!row) return 'missing';
  return row.active === true ? 'member' : 'not-member';
}

/** Pending ones, soonest first: what should have a job (the jobs' start-up check re-adds any whose job Redis lost). */
export async function listPendingScheduledIds(q: Queryable, limit: number): Promise<Pick<ScheduledRow, 'id' | 'conversation_id' | 'scheduled_for'>[]> {
  const r = await q.query<Pick<ScheduledRow, 'id' | 'conversation_id' | 'scheduled_for'>>(
    `SELECT id, conversation_id, scheduled_for FROM scheduled_messages
      WHERE NOT is_sent AND NOT is_cancelled AND failed_at IS NULL ORDER BY scheduled_for LIMIT $1`,
    [limit],
  );
  return r.rows;
}
