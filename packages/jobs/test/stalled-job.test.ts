// The process running a scheduled-message job is killed -9 mid-send: its lock
// lapses and another processor's stalled-job check runs the job again within
// seconds (not BullMQ's default 30 s).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createPgPool, insertConversation, insertScheduled, newId, type ScheduledRow } from '@whispr/store';
import { createTestDatabase } from '@whispr/store/testing';
import { LOCK_MS, ScheduledProcessor, STALLED_CHECK_MS } from '../src/scheduled-processor.ts';
import { ScheduledProducer } from '../src/scheduled-job.ts';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HANGING = fileURLToPath(new URL('./helpers/hanging-processor.ts', import.meta.url));

t.test('a job taken by a process killed -9 runs again elsewhere within seconds', async (t) => {
  const db = await createTestDatabase('stalled_job');
  const redisPrefix = `t:${randomBytes(6).toString('hex')}:`;
  const logger = pino({ level: process.env.WHISPR_TEST_LOG ?? 'warn' });
  const pool = createPgPool({ connectionString: db.url, max: 2, applicationName: 'stalled test', logger });
  const redis = new Redis(REDIS_URL);
  const producer = new ScheduledProducer({ redisUrl: REDIS_URL, redisPrefix, logger });
  let other: ScheduledProcessor | null = null;
  t.teardown(async () => {
    await other?.close();
    await producer.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await pool.end();
    await db.drop();
  });

  const sender = randomUUID();
  const conversationId = newId();
  await insertConversation(pool, { id: conversationId, type: 'direct', metadata: {}, externalGroupId: null, createdBy: sender, createdAt: Date.now(), owner: 'test', members: [{ userId: sender, role: 'member' }, { userId: randomUUID(), role: 'member' }] });
  const { row } = await insertScheduled(pool, {
    id: newId(), conversationId, senderId: sender, type: 'text', content: Buffer.from('hold on'), metadata: {}, clientRandom: 7, scheduledFor: Date.now() + 1000, createdAt: Date.now(),
  });

  const child = spawn(process.execPath, ['--import', 'tsx', HANGING], {
    cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url, REDIS_URL, WHISPR_REDIS_PREFIX: redisPrefix }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const saw = (what: string): Promise<void> => new Promise((resolve) => {
    const check = (): void => {
      if (out.includes(what)) resolve();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      check();
    });
    check();
  });
  await saw('ready');
  await producer.schedule(row.id, conversationId, row.scheduled_for);
  await saw(`taken ${row.id}`);
  child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();

  const taken: { row: ScheduledRow; at: number }[] = [];
  other = new ScheduledProcessor({
    redisUrl: REDIS_URL, redisPrefix, logger, pg: pool,
    send: (r) => {
      taken.push({ row: r, at: Date.now() });
      return Promise.resolve({ message: { id: newId(), seq: 1, sent_at: Date.now() } });
    },
  });
  other.start();
  const bound = LOCK_MS + STALLED_CHECK_MS * 3 + 3000;
  while (taken.length === 0 && Date.now() - killedAt < bound) await new Promise((r) => setTimeout(r, 50));
  t.equal(taken.length, 1, 'the other processor ran the job');
  t.equal(taken[0]?.row.id, row.id, 'that job');
  t.ok((taken[0]?.at ?? Infinity) - killedAt < bound, `within ${(taken[0]?.at ?? 0) - killedAt} ms of the kill (bound ${bound} ms)`);
});
