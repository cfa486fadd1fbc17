/**
 * The SQL of a group-commit batch (batch-writer.ts), as parameter arrays for
 * `unnest`, so a batch of any size is one statement per table.
 *
 * Two shapes:
 * - `writeBatch`: the whole batch as ONE autocommit statement, every insert and
 *   receipt update a data-modifying CTE. One round trip, one parse-free execution
 *   of a named statement, one answer from PostgreSQL: at small batches (an open
 *   loop at a few thousand messages a second makes batches of 10-20) the fixed
 *   cost per transaction (BEGIN, COMMIT, an answer and a wake-up per statement)
 *   outweighs the rows. The CTEs share one snapshot, which is safe here: a
 *   receipt only covers committed seqs (the actor clamps it), never rows inserted
 *   by the same statement.
 * - the step-by-step functions, for the rebuild after a conflict, which runs
 *   inside an explicit transaction after looking up existing sends (and, before
 *   that, the fence: checkFence in fence.ts).
 *
 * The one statement carries the ownership fence (fence.ts) as its first CTE,
 * the one the main query reads: PostgreSQL runs the main query, and so the
 * fence, before it runs the data-modifying CTEs to completion, and a WF001
 * raised by the fence aborts the whole statement, whichever part ran first.
 */
import type pg from 'pg';
import type { ReceiptRequest, SendRequest } from './batch-writer.ts';
import type { FencePairs } from './fence.ts';
import { newId } from './ids.ts';
import { msToTimestamp } from './queryable.ts';

/** A send with what the writer assigned it. */
export interface BatchSend {
  request: SendRequest;
  id: string;
  attachmentIds: string[];
  seq: number;
  sentAt: number;
}

export interface BatchCounts {
  deliveryStatuses: number;
}

/** A receipt's time, as the TIMESTAMP columns hold it. */
const AT = msToTimestamp('r.at_ms');

const MESSAGES_SOURCE = `unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::uuid[], $6::text[], $7::bytea[], $8::text[], $9::int4[], $10::float8[])
           AS t(id, conversation_id, seq, sender_id, reply_to_id, message_type, content, metadata, client_random, sent_ms)`;
const MESSAGES_INSERT = `INSERT INTO messages (id, conversation_id, seq, sender_id, reply_to_id, message_type, content, metadata, client_random, sent_at)
       SELECT t.id, t.conversation_id, t.seq, t.sender_id, t.reply_to_id, t.message_type, t.content, t.metadata::jsonb, t.client_random,
              ${msToTimestamp('t.sent_ms')}
         FROM ${MESSAGES_SOURCE}`;

const statusesInsert = (p: number): string =>
  `INSERT INTO delivery_statuses (id, message_id, user_id) SELECT * FROM unnest($${p}::uuid[], $${p + 1}::uuid[], $${p + 2}::uuid[])`;

const attachmentsInsert = (p: number): string =>
  `INSERT INTO message_attachments (id, message_id, media_id, media_type, metadata)
       SELECT a.id, a.message_id, a.media_id, a.media_type, a.metadata::jsonb
         FROM unnest($${p}::uuid[], $${p + 1}::uuid[], $${p + 2}::uuid[], $${p + 3}::text[], $${p + 4}::text[]) AS a(id, message_id, media_id, media_type, metadata)`;

/**
 * A scheduled message's send marks it sent in the same statement (or
 * transaction) that inserts the message: committed together or not at all, so a
 * retried or duplicated job finds it sent. Its actor checked it pending in the
 * conversation's line, where sched.cancel also runs, so the condition here
 * never drops a row the batch inserts; it keeps a replay from rewriting message_id.
 */
const scheduledUpdate = (p: number): string =>
  `UPDATE scheduled_messages sm SET is_sent = TRUE, message_id = s.message_id
         FROM unnest($${p}::uuid[], $${p + 1}::uuid[]) AS s(id, message_id)
        WHERE sm.id = s.id AND NOT sm.is_sent`;

const receiptsSource = (p: number): string =>
  `unnest($${p}::uuid[], $${p + 1}::uuid[], $${p + 2}::int8[], $${p + 3}::int8[], $${p + 4}::int8[], $${p + 5}::float8[]) AS r(conversation_id, user_id, from_seq, to_seq, read_to, at_ms)`;

const receiptStatusesUpdate = (p: number): string =>
  `UPDATE delivery_statuses ds
          SET delivered_at = COALESCE(ds.delivered_at, ${AT}),
              read_at = CASE WHEN m.seq <= r.read_to THEN COALESCE(ds.read_at, ${AT}) ELSE ds.read_at END
         FROM ${receiptsSource(p)}, messages m
        WHERE m.conversation_id = r.conversation_id AND m.seq > r.from_seq AND m.seq <= r.to_seq
          AND ds.message_id = m.id AND ds.user_id = r.user_id
          AND (ds.delivered_at IS NULL OR (m.seq <= r.read_to AND ds.read_at IS NULL))`;

const receiptMembersUpdate = (p: number): string =>
  `UPDATE conversation_members cm
          SET last_delivered_seq = GREATEST(cm.last_delivered_seq, r.to_seq),
              last_read_seq = GREATEST(cm.last_read_seq, r.read_to),
              last_read_at = CASE WHEN r.read_to > cm.last_read_seq THEN ${AT} ELSE cm.last_read_at END
         FROM ${receiptsSource(p)}
        WHERE cm.conversation_id = r.conversation_id AND cm.user_id = r.user_id`;

/**
 * The whole batch in one statement; parameters: messages $1-$10, statuses
 * $11-$13, then attachments (5) and receipts (6) when the batch has them, then
 * the fence's ids and epochs. Parts a batch does not need are left out rather
 * than run over empty arrays: four named statements, each planned for what it does.
 */
function oneStatement(withAttachments: boolean, withReceipts: boolean, withScheduled = false): { name: string; text: string } {
  const parts = [`m AS (${MESSAGES_INSERT})`, `d AS (${statusesInsert(11)})`];
  let next = 14;
  if (withAttachments) {
    parts.push(`a AS (${attachmentsInsert(next)})`);
    next += 5;
  }
  if (withReceipts) {
    parts.push(`rs AS (${receiptStatusesUpdate(next)})`, `rm AS (${receiptMembersUpdate(next)})`);
    next += 6;
  }
  if (withScheduled) {
    parts.push(`s AS (${scheduledUpdate(next)})`);
    next += 2;
  }
  // A SELECT in WITH runs only as far as the main query reads it, so the main query reads the fence.
  parts.unshift(`f AS (SELECT whispr_fence($${next}::uuid[], $${next + 1}::int8[]) AS checked)`);
  return { name: `whispr_write_batch${withAttachments ? '_a' : ''}${withReceipts ? '_r' : ''}${withScheduled ? '_s' : ''}`, text: `WITH ${parts.join(',\n     ')}\nSELECT checked FROM f` };
}

const ONE_STATEMENT = {
  plain: oneStatement(false, false),
  receipts: oneStatement(false, true),
  attachments: oneStatement(true, false),
  both: oneStatement(true, true),
};
/** Batches carrying a scheduled message's send (rare): the same four shapes, and the scheduled_messages update. */
const WITH_SCHEDULED = {
  plain: oneStatement(false, false, true),
  receipts: oneStatement(false, true, true),
  attachments: oneStatement(true, false, true),
  both: oneStatement(true, true, true),
};

/** The scheduled messages the fresh sends deliver, and the message delivering each. */
function scheduledParams(fresh: BatchSend[]): [string[], string[]] {
  const ids: string[] = [];
  const messageIds: string[] = [];
  for (const s of fresh) {
    if (!s.request.scheduledId) continue;
    ids.push(s.request.scheduledId);
    messageIds.push(s.id);
  }
  return [ids, messageIds];
}

function messageParams(fresh: BatchSend[]): unknown[] {
  return [
    fresh.map((s) => s.id),
    fresh.map((s) => s.request.counter.conversationId),
    fresh.map((s) => s.seq),
    fresh.map((s) => s.request.senderId),
    fresh.map((s) => s.request.replyToId),
    fresh.map((s) => s.request.type),
    fresh.map((s) => Buffer.from(s.request.content.buffer, s.request.content.byteOffset, s.request.content.byteLength)),
    fresh.map((s) => JSON.stringify(s.request.metadata)),
    fresh.map((s) => s.request.clientRandom),
    fresh.map((s) => s.sentAt),
  ];
}

/** One delivery status per recipient of each message. */
function statusParams(fresh: BatchSend[]): [string[], string[], string[]] {
  const ids: string[] = [];
  const messageIds: string[] = [];
  const userIds: string[] = [];
  for (const s of fresh) {
    for (const userId of s.request.recipients) {
      ids.push(newId());
      messageIds.push(s.id);
      userIds.push(userId);
    }
  }
  return [ids, messageIds, userIds];
}

function attachmentParams(fresh: BatchSend[]): [string[], string[], string[], string[], string[]] {
  const params: [string[], string[], string[], string[], string[]] = [[], [], [], [], []];
  for (const s of fresh) {
    s.request.attachments.forEach((a, i) => {
      params[0].push(s.attachmentIds[i] ?? newId());
      params[1].push(s.id);
      params[2].push(a.media_id);
      params[3].push(a.media_type);
      params[4].push(JSON.stringify(a.metadata));
    });
  }
  return params;
}

/**
 * Receipts, merged per (conversation, user) first: UPDATE ... FROM with two
 * source rows for one target row would apply only one of them.
 */
function receiptParams(receipts: ReceiptRequest[]): unknown[] {
  const merged = new Map<string, ReceiptRequest>();
  for (const r of receipts) {
    const key = `${r.counter.conversationId}:${r.userId}`;
    const prior = merged.get(key);
    merged.set(
      key,
      prior
        ? { ...r, fromSeq: Math.min(prior.fromSeq, r.fromSeq), toSeq: Math.max(prior.toSeq, r.toSeq), readToSeq: Math.max(prior.readToSeq, r.readToSeq), at: Math.max(prior.at, r.at) }
        : r,
    );
  }
  const rows = [...merged.values()];
  return [
    rows.map((r) => r.counter.conversationId),
    rows.map((r) => r.userId),
    rows.map((r) => r.fromSeq),
    rows.map((r) => r.toSeq),
    rows.map((r) => r.readToSeq),
    rows.map((r) => r.at),
  ];
}

/**
 * Writes the whole batch in one autocommit statement: when it answers, everything
 * is committed, or nothing (a fenced batch raises WF001).
 */
export async function writeBatch(client: pg.ClientBase, fresh: BatchSend[], receipts: ReceiptRequest[], fence: FencePairs): Promise<BatchCounts> {
  const statuses = statusParams(fresh);
  const attachments = attachmentParams(fresh);
  const withAttachments = attachments[0].length > 0;
  const withReceipts = receipts.length > 0;
  const values: unknown[] = [...messageParams(fresh), ...statuses];
  if (withAttachments) values.push(...attachments);
  if (withReceipts) values.push(...receiptParams(receipts));
  const scheduled = scheduledParams(fresh);
  const withScheduled = scheduled[0].length > 0;
  if (withScheduled) values.push(...scheduled);
  values.push(...fence);
  const shapes = withScheduled ? WITH_SCHEDULED : ONE_STATEMENT;
  const statement = withAttachments ? (withReceipts ? shapes.both : shapes.attachments) : withReceipts ? shapes.receipts : shapes.plain;
  await client.query({ ...statement, values });
  return { deliveryStatuses: statuses[0].length };
}

/** The same rows as writeBatch, one statement per table, inside the caller's transaction (which has passed checkFence). */
export async function writeBatchStepByStep(client: pg.ClientBase, fresh: BatchSend[], receipts: ReceiptRequest[]): Promise<BatchCounts> {
  const statuses = statusParams(fresh);
  if (fresh.length > 0) {
    await client.query(MESSAGES_INSERT, messageParams(fresh));
    if (statuses[0].length > 0) await client.query(statusesInsert(1), statuses);
    const attachments = attachmentParams(fresh);
    if (attachments[0].length > 0) await client.query(attachmentsInsert(1), attachments);
    const scheduled = scheduledParams(fresh);
    if (scheduled[0].length > 0) await client.query(scheduledUpdate(1), scheduled);
  }
  if (receipts.length > 0) {
    const params = receiptParams(receipts);
    await client.query(receiptStatusesUpdate(1), params);
    await client.query(receiptMembersUpdate(1), params);
  }
  return { deliveryStatuses: statuses[0].length };
}
