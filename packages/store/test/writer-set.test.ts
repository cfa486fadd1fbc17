// A shard's writers: each conversation through one writer, seqs gap-free and in
// order per conversation, receipts applied in the same statement, options checked.

import { randomUUID } from 'node:crypto';
import t from 'tap';
import { pino } from 'pino';
import type { SeqCounter, SendRequest } from '../src/batch-writer.ts';
import { createPgPool } from '../src/pg.ts';
import { createTestDatabase } from '../src/test-database.ts';
import { WriterSet } from '../src/writer-set.ts';

const db = await createTestDatabase('writers');
const logger = pino({ level: 'silent' });
const pool = createPgPool({ connectionString: db.url, max: 4, applicationName: 'whispr-writer-test', pipeline: true });
const reader = createPgPool({ connectionString: db.url, max: 1, applicationName: 'whispr-writer-test-reader' });
t.teardown(async () => {
  await Promise.all([pool.end(), reader.end()]);
  await db.drop();
});

interface Conversation {
  counter: SeqCounter;
  members: [string, string];
}

async function conversations(n: number): Promise<Conversation[]> {
  const list = Array.from({ length: n }, (): Conversation => {
    const id = randomUUID();
    return { counter: { conversationId: id, epoch: 0, lastSeq: 0, committedSeq: 0, invalidate: () => undefined, fenced: () => undefined }, members: [randomUUID(), randomUUID()] };
  });
  await reader.query(`INSERT INTO conversations (id, type) SELECT id, 'direct' FROM unnest($1::uuid[]) AS id`, [list.map((c) => c.counter.conversationId)]);
  await reader.query(`INSERT INTO conversation_members (conversation_id, user_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`, [
    list.flatMap((c) => [c.counter.conversationId, c.counter.conversationId]),
    list.flatMap((c) => c.members),
  ]);
  return list;
}

let clientRandom = 1;
const send = (c: Conversation, text: string): SendRequest => ({
  counter: c.counter,
  senderId: c.members[0],
  clientRandom: clientRandom++,
  type: 'text',
  content: new TextEncoder().encode(text),
  metadata: {},
  replyToId: null,
  attachments: [],
  recipients: [c.members[1]],
});

t.test('options are checked when the set is built', async (t) => {
  t.throws(() => new WriterSet({ pool, logger, writers: 0 }), { name: 'TypeError', message: /option writers/ });
  t.throws(() => new WriterSet({ pool, logger, writers: 1.5 }), { name: 'TypeError', message: /option writers/ });
});

t.test('three writers, twelve conversations: every send stored once, seqs 1..N in order per conversation', async (t) => {
  const writers = new WriterSet({ pool, logger, writers: 3 });
  const list = await conversations(12);
  const perConversation = 40;
  const outcomes = await Promise.all(list.flatMap((c) => Array.from({ length: perConversation }, (_, i) => writers.send(send(c, `m${i}`)))));
  t.ok(outcomes.every((o) => o.kind === 'stored'), 'all stored');
  for (const [k, c] of list.entries()) {
    const seqs = outcomes.slice(k * perConversation, (k + 1) * perConversation).map((o) => (o.kind === 'stored' ? o.seq : -1));
    t.same(seqs, Array.from({ length: perConversation }, (_, i) => i + 1), 'seqs follow the order of the sends');
    t.equal(c.counter.committedSeq, perConversation);
  }
  const stored = await reader.query<{ conversation_id: string; n: number; max: number; statuses: number }>(
    `SELECT m.conversation_id, count(*)::int8 AS n, max(m.seq) AS max,
            (SELECT count(*) FROM delivery_statuses ds JOIN messages x ON x.id = ds.message_id WHERE x.conversation_id = m.conversation_id)::int8 AS statuses
       FROM messages m WHERE m.conversation_id = ANY($1::uuid[]) GROUP BY m.conversation_id`,
    [list.map((c) => c.counter.conversationId)],
  );
  t.equal(stored.rows.length, list.length);
  t.ok(stored.rows.every((r) => r.n === perConversation && r.max === perConversation && r.statuses === perConversation), 'each once, a status per recipient');
  t.equal(writers.stats.messages, list.length * perConversation);
  t.equal(writers.stats.deliveryStatuses, list.length * perConversation);
  t.equal(writers.queued, 0);
  await writers.close();
});

t.test('a receipt in the same batch as new sends marks the committed messages', async (t) => {
  const writers = new WriterSet({ pool, logger, writers: 2 });
  const [c] = await conversations(1);
  if (!c) throw new Error('no conversation');
  for (let i = 0; i < 3; i++) await writers.send(send(c, `early ${i}`));
  const at = Date.now();
  const [receipt, late] = await Promise.all([
    writers.receipt({ counter: c.counter, userId: c.members[1], fromSeq: 0, toSeq: 3, readToSeq: 2, at }),
    writers.send(send(c, 'late')),
  ]);
  t.equal(receipt, undefined);
  t.equal(late.kind === 'stored' && late.seq, 4);
  const rows = await reader.query<{ seq: number; delivered: boolean; read: boolean }>(
    `SELECT m.seq, ds.delivered_at IS NOT NULL AS delivered, ds.read_at IS NOT NULL AS read
       FROM messages m JOIN delivery_statuses ds ON ds.message_id = m.id WHERE m.conversation_id = $1 ORDER BY m.seq`,
    [c.counter.conversationId],
  );
  t.same(rows.rows, [
    { seq: 1, delivered: true, read: true },
    { seq: 2, delivered: true, read: true },
    { seq: 3, delivered: true, read: false },
    { seq: 4, delivered: false, read: false },
  ]);
  const member = await reader.query<{ last_delivered_seq: number; last_read_seq: number }>(
    `SELECT last_delivered_seq, last_read_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2`,
    [c.counter.conversationId, c.members[1]],
  );
  t.same(member.rows[0], { last_delivered_seq: 3, last_read_seq: 2 });
  await writers.close();
});

t.test('a send already stored is found after the one-statement insert fails, and takes no seq', async (t) => {
  const writers = new WriterSet({ pool, logger, writers: 2 });
  const [c] = await conversations(1);
  if (!c) throw new Error('no conversation');
  const first = send(c, 'once');
  const stored = await writers.send(first);
  const again = await writers.send({ ...first });
  t.same(again.kind === 'duplicate' && stored.kind === 'stored' && [again.id, again.seq], [stored.kind === 'stored' && stored.id, 1], 'a duplicate of the first');
  const other = await writers.send({ ...first, content: new TextEncoder().encode('not the same') });
  t.same(other, { kind: 'conflict', existingConversationId: c.counter.conversationId }, 'same client_random, other bytes: conflict');
  const next = await writers.send(send(c, 'next'));
  t.equal(next.kind === 'stored' && next.seq, 2, 'duplicates and conflicts consumed no seq');
  await writers.close();
});
