// A scheduled message is sent once at its time, as an ordinary msg.new keeping
// sched.create's client_random; scheduling it twice is one message, and a job
// run again (retried, duplicated) sends nothing more.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, QUEUE_NAMES, SCHEDULED_JOB_VERSION } from '@whispr/jobs';
import { startTestNode, REDIS_URL } from './helpers/test-node.ts';
import { collect, messagesWith, rowOf, sleep, until } from './helpers/scheduled.ts';

t.test('sent once at its time; sched.create twice is one message', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  const { conversation } = await a.direct(bob);
  const atBob = collect(b, conversation.id);
  const due = Date.now() + 1500;
  const first = await a.scheduleMessage(conversation.id, due, { content: 'later', clientRandom: 4242 });
  const again = await a.scheduleMessage(conversation.id, due, { content: 'later', clientRandom: 4242 });
  t.equal(again.scheduled.id, first.scheduled.id, 'the retry names the same scheduled message');
  t.equal(first.scheduled.scheduled_for, due, 'scheduled_for as given');
  const listed = await a.listScheduled(conversation.id);
  t.same(listed.scheduled.map((s) => s.id), [first.scheduled.id], 'sched.list shows it pending');
  t.same((await a.listScheduled()).scheduled.map((s) => s.id), [first.scheduled.id], 'also without a conversation_id');
  t.same((await b.listScheduled()).scheduled, [], 'not in another user’s list');
  await until('bob got it', () => atBob.length >= 1);
  t.ok(Date.now() >= due, 'not before its time');
  await sleep(1500);
  t.equal(atBob.length, 1, 'exactly one msg.new');
  const m = atBob[0]!;
  t.equal(m.sender_id, alice, 'from alice');
  t.equal(m.client_random, 4242, 'with sched.create’s client_random');
  t.equal(Buffer.from(m.content).toString(), 'later', 'its content');
  const row = await rowOf(n.databaseUrl, first.scheduled.id);
  t.equal(row?.is_sent, true, 'the row is marked sent');
  t.equal(row?.message_id, m.id, 'by that message');
  t.same((await a.listScheduled()).scheduled, [], 'no longer pending');
  t.equal(await messagesWith(n.databaseUrl, conversation.id), 1, 'one message stored');
});

t.test('a job run again after the send sends nothing more', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  const atBob = collect(b, conversation.id);
  const { scheduled } = await a.scheduleMessage(conversation.id, Date.now() + 1100, { content: 'once' });
  await until('sent', () => atBob.length === 1);
  // The same job again, as a retry or a duplicate would bring it (under another job id: the first is done).
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAMES.scheduled, { connection: redis, prefix: bullPrefix(n.redisPrefix) });
  t.teardown(async () => {
    await queue.close();
    redis.disconnect();
  });
  for (let i = 0; i < 3; i++) {
    await queue.add('send', { v: SCHEDULED_JOB_VERSION, scheduled_id: scheduled.id, conversation_id: conversation.id }, { jobId: `${scheduled.id}-again-${i}` });
  }
  await until('the replays ran', async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= 4);
  await sleep(500);
  t.equal(atBob.length, 1, 'still one msg.new');
  t.equal(await messagesWith(n.databaseUrl, conversation.id), 1, 'still one message stored');
});
