// One bad row fails alone: a batch PostgreSQL refuses for one write's content is
// split until that write stands alone; everyone else's writes in it commit, with
// gap-free seqs, and the refused one gets a coded error that is not `unavailable`.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { pino } from 'pino';
import { BatchFailedError, BatchRowRefusedError, type SeqCounter, type SendOutcome, type SendRequest } from '../src/batch-writer.ts';
import { createPgPool } from '../src/pg.ts';
import { createTestDatabase } from '../src/test-database.ts';
import { WriterSet } from '../src/writer-set.ts';

const db = await createTestDatabase('isolation');
const logger = pino({ level: 'silent' });
const pool = createPgPool({ connectionString: db.url, max: 3, applicationName: 'whispr-isolation-test', pipeline: true });
const reader = createPgPool({ connectionString: db.url, max: 1, applicationName: 'whispr-isolation-test-reader' });
t.teardown(async () => {
  await Promise.all([pool.end(), reader.end()]);
  await db.drop();
});

async function conversation(): Promise<{ counter: SeqCounter; members: [string, string] }> {
  const id = randomUUID();
  const members: [string, string] = [randomUUID(), randomUUID()];
  await reader.query(`INSERT INTO conversations (id, type) VALUES ($1, 'direct')`, [id]);
  await reader.query(`INSERT INTO conversation_members (conversation_id, user_id) SELECT $1, unnest($2::uuid[])`, [id, members]);
  return { counter: { conversationId: id, epoch: 0, lastSeq: 0, committedSeq: 0, invalidate: () => undefined, fenced: () => undefined }, members };
}

let clientRandom = 1;
function request(c: { counter: SeqCounter; members: [string, string] }, metadata: Record<string, unknown> = {}, replyToId: string | null = null): SendRequest {
  return {
    counter: c.counter, senderId: c.members[0], clientRandom: clientRandom++, type: 'text', content: new Uint8Array([1, 2, 3]),
    metadata, replyToId, attachments: [], recipients: [c.members[1]],
  };
}

const settleAll = (ps: Promise<SendOutcome>[]): Promise<PromiseSettledResult<SendOutcome>[]> => Promise.allSettled(ps);

t.test('a row PostgreSQL refuses fails alone; the rest of its batch commits in order', async (t) => {
  const writers = new WriterSet({ pool, logger, writers: 1 });
  t.teardown(() => writers.close());
  const [c1, c2] = [await conversation(), await conversation()];
  // Handed over in one turn, so they share one batch. The NUL would have been refused
  // at the edge; here it stands for any content the edge did not catch.
  const sends = [
    writers.send(request(c1)),
    writers.send(request(c2)),
    writers.send(request(c1, { bad: 'a\u0000b' })),
    writers.send(request(c1)),
    writers.send(request(c2, {}, randomUUID())), // reply_to_id naming no message: a foreign key violation
    writers.send(request(c2)),
  ];
  const results = await settleAll(sends);
  const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
  t.same(refused, [2, 4], 'only the two bad writes failed');
  for (const i of refused) {
    const r = results[i];
    if (r?.status !== 'rejected') continue;
    t.ok(r.reason instanceof BatchRowRefusedError, 'a row refusal');
    t.notOk(r.reason instanceof BatchFailedError, 'not the unavailable kind');
  }
  const seqsOf = async (c: { counter: SeqCounter }): Promise<number[]> =>
    (await reader.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [c.counter.conversationId])).rows.map((r) => Number(r.seq));
  t.same(await seqsOf(c1), [1, 2], 'gap-free seqs in the first conversation');
  t.same(await seqsOf(c2), [1, 2], 'and in the second');
  const stored = results.flatMap((r) => (r.status === 'fulfilled' && r.value.kind === 'stored' ? [r.value] : []));
  t.equal(stored.length, 4);
  t.same(c1.counter.lastSeq, 2, 'the counter did not keep the refused seq');

  const after = await writers.send(request(c1));
  t.equal(after.kind === 'stored' ? after.seq : -1, 3, 'the conversation carries on');
});

t.test('the writer pushes back when its queue is full', async (t) => {
  const { BatchWriter } = await import('../src/batch-writer.ts');
  t.throws(() => new BatchWriter({ pool, logger, maxQueued: 0 }), { name: 'TypeError', message: /maxQueued/ });
  const writers = new WriterSet({ pool, logger, writers: 1, maxQueuedPerWriter: 3 });
  t.teardown(() => writers.close());
  const c = await conversation();
  t.ok(writers.hasRoom(c.counter.conversationId));
  const sends = [writers.send(request(c)), writers.send(request(c)), writers.send(request(c))];
  t.notOk(writers.hasRoom(c.counter.conversationId), 'three queued: no room');
  await Promise.all(sends);
  t.ok(writers.hasRoom(c.counter.conversationId), 'room again once committed');
});
