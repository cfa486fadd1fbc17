// DESIGN.md "Fencing", end to end: a node paused (SIGSTOP) past the lapse while
// its batch is on its way to PostgreSQL, another node taking its conversation
// meanwhile, then the first node resumed. The paused node's batch must fail
// inside PostgreSQL (the fence), the new owner's writes continue the sequence,
// and the resumed node serves nothing from before its pause.
//
// Node A is a child process (so it can be stopped); node B runs here. They
// share the database and the Redis prefix, i.e. one cluster.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import pg from 'pg';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import { DEFAULT_LIMITS } from '@whispr/protocol';
import { createTestDatabase } from '@whispr/store/testing';
import { WhisprClient, WhisprRequestError } from '@whispr/client';
import { startNode } from '../src/node.ts';
import { DEFAULT_NODE_GRACE_MS } from '../src/config.ts';

/** The node's grace (the registry's lapse): a heartbeat older than it drops the node. */
const MEMBERSHIP_TIMING = { lapseMs: DEFAULT_NODE_GRACE_MS } as const;
import { REDIS_URL, TEST_SECRET } from './helpers/test-node.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const codeOf = (err: unknown): string => (err instanceof WhisprRequestError ? err.code : String(err));

t.test('a node paused past the lapse cannot commit after another node took its conversation', async (t) => {
  const db = await createTestDatabase('fence_sigstop');
  const redisPrefix = `t:${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const secret = new TextEncoder().encode(TEST_SECRET);
  const token = (userId: string): Promise<string> =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + 3600).sign(secret);
  const clients: WhisprClient[] = [];
  const connect = async (url: string, userId: string): Promise<WhisprClient> => {
    const c = await WhisprClient.connect({ url, token: await token(userId), requestTimeoutMs: 60_000 });
    clients.push(c);
    return c;
  };

  // Node A, alone in the ring at first.
  const portA = await freePort();
  const a: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'packages/node/src/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, PORT: String(portA), HOST: '127.0.0.1', DATABASE_URL: db.url, REDIS_URL, WHISPR_REDIS_PREFIX: redisPrefix,
      WHISPR_NODE_ID: 'node-a', WHISPR_WORKERS: '0', WHISPR_SHARD_WRITERS: '1', WHISPR_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'error',
    },
  });
  const aExited = new Promise<void>((resolve) => a.once('exit', () => resolve()));
  let holder: pg.Client | null = null;
  let nodeB: Awaited<ReturnType<typeof startNode>> | null = null;
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined /* already closed */)));
    if (a.exitCode === null) {
      a.kill('SIGCONT');
      a.kill('SIGTERM');
      await aExited;
    }
    await holder?.end().catch(() => undefined);
    await nodeB?.stop();
    await sql.end();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
  });
  await until('node A to be ready', async () => (await fetch(`http://127.0.0.1:${portA}/readyz`)).ok, 90_000);

  const [alice, bob] = [randomUUID(), randomUUID()];
  const onA = await connect(`ws://127.0.0.1:${portA}/ws`, alice);
  const { conversation } = await onA.direct(bob);
  for (const text of ['one', 'two', 'three']) await onA.send(conversation.id, { content: text });
  const owner = async (): Promise<{ epoch: number; node: string | null }> => {
    const r = await sql.query<{ owner_epoch: string; owner_node: string | null }>('SELECT owner_epoch, owner_node FROM conversations WHERE id = $1', [conversation.id]);
    return { epoch: Number(r.rows[0]?.owner_epoch), node: r.rows[0]?.owner_node ?? null };
  };
  t.same(await owner(), { epoch: 1, node: 'node-a#0' }, 'A created the conversation, at epoch 1');

  // A's next batch reaches PostgreSQL and waits there (a third session holds the messages table)...
  holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE messages IN SHARE MODE');
  const staleSend = onA.send(conversation.id, { content: 'from the paused node', clientRandom: 4242 }).then(
    () => 'ok',
    (err: unknown) => codeOf(err),
  );
  await until('A’s batch to wait in PostgreSQL', async () =>
    (await sql.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%writer' AND wait_event_type = 'Lock'`)).rowCount === 1);

  // ...and A is paused past the lapse.
  a.kill('SIGSTOP');
  nodeB = await startNode({
    port: 0, host: '127.0.0.1', databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix, jwt: { secret: TEST_SECRET, devSecret: false }, dev: false,
    workers: 0, shardWriters: 1, nodeId: 'node-b', logLevel: 'error', limits: DEFAULT_LIMITS, socketBacklogBytes: 1024 * 1024,
    logger: pino({ level: 'error' }),
  });
  const b = nodeB;
  await until('B’s ring to drop A', async () => b.routing.ringSlots.length === 1 && b.routing.ringSlots[0] === 'node-b#0', MEMBERSHIP_TIMING.lapseMs * 4);

  // B takes the conversation: its load claims it (the claim does not wait for A's batch, which has not reached the fence).
  const onB = await connect(b.wsUrl, alice);
  const fromB = onB.send(conversation.id, { content: 'four, from the new owner' });
  await until('B’s claim', async () => (await owner()).epoch === 2);
  t.same(await owner(), { epoch: 2, node: 'node-b#0' }, 'B claimed it');
  await holder.query('COMMIT');
  t.equal((await fromB).message.seq, 4, 'B continues the sequence');

  // A resumes: its batch was refused by the fence inside PostgreSQL.
  a.kill('SIGCONT');
  t.equal(await staleSend, 'unavailable', 'the paused node’s write failed (retry is safe)');
  const stored = await sql.query<{ seq: string; content: Buffer }>('SELECT seq, content FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.same(stored.rows.map((r) => Number(r.seq)), [1, 2, 3, 4], 'seqs 1..4: no fork, no gap');
  t.notOk(stored.rows.some((r) => r.content.toString() === 'from the paused node'), 'nothing of the fenced batch was stored');
  // It failed in PostgreSQL (the batch had reached it before the pause), not in A's lease check.
  const failedOnA = await until('A’s shard stats', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${portA}/metrics`)).text();
    const n = Number(/^whispr_shard_failed_batches\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    return n > 0 ? n : null;
  }, 10_000);
  t.ok(failedOnA >= 1, 'A counted the refused batch');

  // The client retries with the same client_random through whichever node owns the conversation now
  // (A, resumed, heartbeats again and may be given it back; neither forwards yet): stored once, next in line.
  let attempt = 0;
  const retried = await until('the retry to be stored', async () => {
    const via = attempt++ % 2 === 0 ? onB : onA;
    try {
      return await via.send(conversation.id, { content: 'from the paused node', clientRandom: 4242 });
    } catch (err) {
      if (codeOf(err) !== 'unavailable') throw err;
      return null;
    }
  }, MEMBERSHIP_TIMING.lapseMs * 4);
  t.equal(retried.message.seq, 5);
  t.equal(retried.duplicate, undefined, 'stored now, not a duplicate of a lost write');

  // Whatever A answers from now on, it is never from its memory of before the pause.
  const seen = await until('A to answer again', async () => {
    try {
      return (await onA.get(conversation.id)).conversation.last_seq;
    } catch (err) {
      return codeOf(err) === 'unavailable' ? null : -1;
    }
  }, MEMBERSHIP_TIMING.lapseMs * 4).catch(() => null);
  if (seen !== null) t.equal(seen, 5, 'A, back in the ring, reloaded: it sees B’s writes');
  else t.pass('A answers unavailable for a conversation it no longer owns');
  const final = await sql.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.same(final.rows.map((r) => Number(r.seq)), [1, 2, 3, 4, 5]);
});
