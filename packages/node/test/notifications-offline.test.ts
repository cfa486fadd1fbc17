// A notification job for each offline, unmuted member, none for a muted one nor
// for a member who is connected; one job per message, naming its recipients.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, NOTIFICATION_JOB_VERSION, QUEUE_NAMES, type NotificationJobV1 } from '@whispr/jobs';
import { REDIS_URL, startTestNode } from './helpers/test-node.ts';
import { sleep, until } from './helpers/scheduled.ts';

t.test('offline unmuted members are notified, muted and online ones are not', async (t) => {
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 300 });
  const [alice, bob, carol, dave, erin] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  await n.connect(erin);
  const { conversation } = await a.group([bob, carol, dave, erin]);
  // carol mutes for an hour (member.settings.set, kept in the actor's memory); dave's mute is over
  // (an ISO time, written in PostgreSQL, read when the idle actor reloads).
  const c = await n.connect(carol);
  await c.setMemberSettings(conversation.id, { muted_until: Date.now() + 3600_000 });
  await c.close();
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  await db.query(`UPDATE conversation_members SET settings = jsonb_build_object('muted_until', $3::text) WHERE conversation_id = $1 AND user_id = $2`, [conversation.id, dave, new Date(Date.now() - 60_000).toISOString()]);
  await db.end();
  await sleep(2500);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAMES.notifications, { connection: redis, prefix: bullPrefix(n.redisPrefix) });
  t.teardown(async () => {
    await queue.close();
    redis.disconnect();
  });
  const sent = await a.send(conversation.id, { content: 'hello all' });
  await until('a notification job', async () => (await queue.getWaitingCount()) >= 1);
  await a.send(conversation.id, { content: 'second' });
  await until('two jobs', async () => (await queue.getWaitingCount()) >= 2);
  await sleep(300);
  const jobs = await queue.getWaiting(0, -1);
  t.equal(jobs.length, 2, 'one job per message');
  const first = jobs.map((j) => j.data as NotificationJobV1).find((d) => d.message_id === sent.message.id);
  t.ok(first, 'the first message’s job');
  t.equal(first?.v, NOTIFICATION_JOB_VERSION, 'versioned');
  t.equal(first?.conversation_id, conversation.id, 'names the conversation');
  t.equal(first?.seq, sent.message.seq, 'and the seq');
  t.equal(first?.sender_id, alice, 'and the sender');
  t.same([...(first?.recipients ?? [])].sort(), [bob, dave].sort(), 'bob (offline) and dave (mute over); not carol (muted), erin (online) or alice (sender)');
  t.notOk('content' in (first ?? {}), 'no content');
});
