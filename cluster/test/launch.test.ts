// `pnpm cluster --nodes 2` and `pnpm cluster status`, run as a user runs them:
// the launcher finds its services from the environment (here the test's own
// database and prefix), starts two node processes on consecutive ports, says how
// to reach them, a client chats across them, status shows both nodes and a
// conversation's owner, and one Ctrl-C (SIGINT) stops everything.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createTestDatabase } from '@whispr/store/testing';
import { mintDevToken, WhisprClient, type Message } from '@whispr/client';
import { REPO_ROOT } from '../src/node-process.ts';
import { SHARED_REDIS_URL, waitUntil } from './helpers/process-cluster.ts';

const LAUNCH = 'cluster/src/launch.ts';

interface Run {
  child: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', LAUNCH, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => err.push(d.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out, err, exited };
}

/** Two consecutive ports free now. */
async function consecutivePorts(): Promise<number> {
  const free = (port: number): Promise<boolean> => new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await free(port)) && (await free(port + 1))) return port;
  }
}

t.test('the launcher refuses bad options before starting anything', async (t) => {
  const bad = run(['--nodes', '0'], process.env);
  t.equal(await bad.exited, 2, 'exit code 2');
  t.match(bad.err.join(''), /--nodes: expected an integer from 1 to 64, got 0/);
  const help = run(['--help'], process.env);
  t.equal(await help.exited, 0);
  t.match(help.out.join(''), /usage: npm run cluster -- \[--nodes 3\]/);
  const port = await consecutivePorts();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(port + 1, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const busy = run(['--nodes', '2', '--port', String(port)], process.env);
  t.equal(await busy.exited, 2, 'a port in use: exit 2');
  t.match(busy.err.join(''), new RegExp(`port ${port + 1} on 127.0.0.1 is in use`));
});

t.test('two nodes: URLs, chat across them, status, Ctrl-C', async (t) => {
  const db = await createTestDatabase('launch');
  t.teardown(() => db.drop());
  const prefix = `t:launch:${randomBytes(5).toString('hex')}:`;
  t.teardown(async () => {
    // Only this test's keys: the Redis is shared.
    const redis = new Redis(SHARED_REDIS_URL);
    const keys = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  const secret = `launch-${randomBytes(8).toString('hex')}`;
  const env = { ...process.env, DATABASE_URL: db.url, REDIS_URL: SHARED_REDIS_URL, WHISPR_REDIS_PREFIX: prefix, WHISPR_JWT_SECRET: secret, LOG_LEVEL: 'info' };
  const port = await consecutivePorts();
  const launcher = run(['--nodes', '2', '--port', String(port), '--workers', '0'], env);
  t.teardown(async () => {
    // On failure: the launcher and the nodes it printed (they run in process groups of their own).
    for (const pid of [...launcher.err.join('').matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    launcher.child.kill('SIGKILL');
  });

  await waitUntil('the launcher says the cluster runs', () => /running as one cluster/.test(launcher.err.join('')) || launcher.child.exitCode !== null, 150_000, 200);
  const said = launcher.err.join('');
  t.match(said, new RegExp(`node-1 +ws://127\\.0\\.0\\.1:${port}/ws`), 'node-1 on --port');
  t.match(said, new RegExp(`node-2 +ws://127\\.0\\.0\\.1:${port + 1}/ws`), 'node-2 on the next one');
  t.match(said, new RegExp(`npm run chat -- --as bob --url ws://127\\.0\\.0\\.1:${port + 1}/ws`), 'how to chat against node-2');
  t.match(said, /npm run cluster -- status/, 'how to see it');

  for (const p of [port, port + 1]) t.equal((await fetch(`http://127.0.0.1:${p}/readyz`)).status, 200, `:${p}/readyz is 200`);
  const view = (await (await fetch(`http://127.0.0.1:${port + 1}/cluster`)).json()) as { nodeId: string; serving: boolean; nodes: unknown[] };
  t.match(view, { nodeId: 'node-2', serving: true }, 'GET /cluster: node-2 serves');
  t.equal(view.nodes.length, 2, 'and sees both nodes');

  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await WhisprClient.connect({ url: `ws://127.0.0.1:${port}/ws`, token: await mintDevToken({ userId: alice, secret }) });
  const b = await WhisprClient.connect({ url: `ws://127.0.0.1:${port + 1}/ws`, token: await mintDevToken({ userId: bob, secret }) });
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const got = new Promise<Message>((resolve) => b.on('msg.new', (ev) => resolve(ev.message)));
  const { conversation } = await a.direct(bob);
  await a.send(conversation.id, { content: 'across two nodes', clientRandom: 7 });
  t.equal((await got).seq, 1, 'a message sent on node-1 reaches a member on node-2');

  const status = run(['status', '--conversation', conversation.id], env);
  t.equal(await status.exited, 0, 'status exits 0');
  const text = status.out.join('');
  t.match(text, new RegExp(`Cluster "${prefix}" on .*: 2 live nodes, 2 slots in the ring`));
  t.match(text, new RegExp(`node-1 +live +[0-9a-f]{16} +127\\.0\\.0\\.1:${port} +node-1#0`), 'node-1 with its incarnation, address and slot');
  t.match(text, /node-2 +live .* serving, ring generation \d+, bus up/, 'node-2 and its own view');
  t.match(text, /ring: +slot node-[12]#0 on node-[12]/, 'the conversation’s slot and node');
  t.match(text, /PostgreSQL row: +type direct, is_active true, last_seq 1/, 'and its row');
  const json = run(['status', '--json'], env);
  t.equal(await json.exited, 0);
  const parsed = JSON.parse(json.out.join('')) as { nodes: { nodeId: string; live: boolean }[] };
  t.same(parsed.nodes.map((n) => [n.nodeId, n.live]).sort(), [['node-1', true], ['node-2', true]], '--json');

  await Promise.all([a.close(), b.close()]);
  launcher.child.kill('SIGINT');
  const code = await Promise.race([launcher.exited, sleep(60_000, undefined, { ref: false }).then(() => 'hung' as const)]);
  t.equal(code, 0, 'one SIGINT stops the cluster, exit 0');
  t.match(launcher.err.join(''), /all stopped/);
  t.match(launcher.out.join('') + launcher.err.join(''), /node-1 +\| /, 'node lines are prefixed with the node id');
  const after = run(['status'], env);
  t.equal(await after.exited, 0);
  t.match(after.out.join(''), /0 live nodes/, 'nothing left in the registry');
  for (const p of [port, port + 1]) await t.rejects(fetch(`http://127.0.0.1:${p}/healthz`), `:${p} is closed`);
});
