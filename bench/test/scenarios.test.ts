/**
 * A smoke-sized run of every scenario against one real node (its own migrated
 * database, Redis prefix and port), and of direct --cross and idle against two
 * nodes forming one cluster (their own database and prefix), asserting
 * correctness only: nothing acknowledged lost or duplicated, every client
 * recovered, every page right, every cross-node send forwarded, report files
 * written. Never timing: this machine is shared and small.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createTestDatabase } from '@whispr/store/testing';
import { parseOptions } from '../src/cli/options.ts';
import { REPORT_FILES } from '../src/report/write-report.ts';
import { runBench } from '../src/run/run-bench.ts';
import { clusterTarget } from '../src/target/cluster-target.ts';
import { spawnCluster } from '../src/target/spawn-cluster.ts';
import { DEFAULT_REDIS_URL, spawnNode } from '../src/target/spawn-node.ts';
import { deleteRedisPrefix } from '../src/target/redis-cleanup.ts';

const out = await mkdtemp(join(tmpdir(), 'whispr-bench-'));
const [db, clusterDb] = await Promise.all([createTestDatabase('bench_smoke'), createTestDatabase('bench_cluster')]);
// Both started at once: the cluster's inline shards (--workers 0) are the lightest nodes to start.
const [node, cluster] = await Promise.all([
  spawnNode({ databaseUrl: db.url, redisUrl: DEFAULT_REDIS_URL, workers: 2, logPath: join(out, 'node.log') }),
  spawnCluster({ count: 2, databaseUrl: clusterDb.url, redisUrl: DEFAULT_REDIS_URL, workers: 0, logPath: (i) => join(out, `cluster-node-${i + 1}.log`) }),
]);
const clusterNodes = clusterTarget(cluster, { databaseUrl: clusterDb.url, redisUrl: DEFAULT_REDIS_URL, workers: 0, shardWriters: 2, stop: async () => undefined });
t.teardown(async () => {
  await Promise.all([node.stop(), cluster.stop()]);
  await deleteRedisPrefix(DEFAULT_REDIS_URL, node.redisPrefix);
  await deleteRedisPrefix(DEFAULT_REDIS_URL, cluster.redisPrefix);
  await Promise.all([db.drop(), clusterDb.drop()]);
  await rm(out, { recursive: true, force: true });
});

/** Runs a scenario against the shared node, as `pnpm bench ... --url` would. */
async function run(args: string[]) {
  const options = parseOptions([
    ...args,
    '--url', node.wsUrl,
    '--jwt-secret', node.jwtSecret,
    '--database-url', db.url,
    '--server-pid', String(node.serverPid),
    '--workers', '2',
    '--warmup', '0.3',
    '--no-progress',
    // Idle PostgreSQL backends publish their row counters up to 10 s late: not worth waiting for here.
    '--stats-wait', '0',
    '--out', join(out, args[0] ?? 'run'),
  ]);
  const { result, dir } = await runBench(options, `test ${args.join(' ')}`);
  return { summary: result.summary, result, dir };
}

/** Runs a scenario against the shared two-node cluster, as `pnpm bench ... --nodes 2` would against its own. */
async function runOnCluster(args: string[]) {
  const options = parseOptions([...args, '--nodes', '2', '--workers', '0', '--warmup', '0.3', '--no-progress', '--stats-wait', '0', '--out', join(out, `cluster-${args[0] ?? 'run'}`)]);
  const { result, dir } = await runBench(options, `test ${args.join(' ')} --nodes 2`, clusterNodes);
  return { summary: result.summary, result, dir };
}

function assertCorrect(t: Test, summary: Record<string, unknown>, dir: string): void {
  t.equal(summary['lost'], 0, 'nothing acknowledged was lost');
  t.equal(summary['duplicated'], 0, 'nothing was stored twice');
  t.equal(summary['unanswered'], 0, 'every request was answered');
  for (const file of REPORT_FILES) t.ok(existsSync(join(dir, file)), `${file} written`);
}

t.test('direct, closed loop, with both ceilings', async (t) => {
  const { summary, result, dir } = await run(['direct', '--pairs', '4', '--window', '4', '--duration', '1.5', '--ceiling-seconds', '0.2']);
  assertCorrect(t, summary, dir);
  t.ok(summary.acked > 0, 'messages were acknowledged');
  t.equal(summary.undelivered, 0, 'every message reached its recipient');
  t.ok((summary.ceiling_per_s ?? 0) > 0, 'PostgreSQL ceiling measured');
  t.ok((summary.transport_ceiling_per_s ?? 0) > 0, 'transport ceiling measured');
  t.equal(result.verification?.seq_gaps, 0, 'seqs gap-free');
  t.type(result.rows_written, 'object', 'pg_stat counters read');
});

t.test('direct, open loop', async (t) => {
  const { summary, dir } = await run(['direct', '--pairs', '4', '--rate', '200', '--duration', '1', '--no-ceilings']);
  assertCorrect(t, summary, dir);
  t.equal(summary.mode, 'open');
  t.equal(summary.undelivered, 0);
});

t.test('group fan-out', async (t) => {
  const { summary, dir } = await run(['group', '--groups', '2', '--members', '5', '--window', '2', '--duration', '1', '--no-ceilings']);
  assertCorrect(t, summary, dir);
  t.equal(summary.undelivered, 0, 'every member got every message');
});

t.test('idle connections', async (t) => {
  const { summary, dir } = await run(['idle', '--connections', '60', '--duration', '0.5']);
  assertCorrect(t, summary, dir);
  t.equal(summary['connections'], 60);
  t.equal(summary['alive'], 60, 'every connection answered a ping after the hold');
});

t.test('reconnect and sync', async (t) => {
  const { summary, dir } = await run(['reconnect', '--connections', '8', '--messages', '6']);
  assertCorrect(t, summary, dir);
  t.equal(summary['unrecovered'], 0, 'every client recovered every message');
  t.equal(summary['clients_recovered'], 8);
  t.equal(summary['wrong_messages'], 0);
});

t.test('history paging', async (t) => {
  const { summary, dir } = await run(['history', '--connections', '3', '--messages', '120', '--page-size', '50', '--duration', '1']);
  assertCorrect(t, summary, dir);
  t.ok((summary['full_passes'] as number) > 0, 'readers paged through whole conversations');
  t.equal(summary['bad_passes'], 0, 'every pass returned seqs N..1 exactly');
});

t.test('flood: the pair alone, then beside a flood of requests for conversations that do not exist', async (t) => {
  const { summary, dir } = await run(['flood', '--requests', '600', '--pair-rate', '50', '--duration', '1', '--flood-window', '64']);
  assertCorrect(t, summary, dir);
  t.equal(summary['flood_answered'], 600, 'every flood request was answered');
  t.equal(summary['flood_internal'], undefined, 'none of them internal');
  t.ok((summary['pair_acked_alone'] as number) > 0 && (summary['pair_acked_flood'] as number) > 0, 'the pair was acked in both phases');
  t.equal(summary.undelivered, 0, 'every pair message reached the peer');
  t.equal(summary['pair_seq_problems'], 0);
});

t.test('two nodes, direct --cross: every send forwarded to the owner, every message delivered across', async (t) => {
  const { summary, result, dir } = await runOnCluster(['direct', '--cross', '--pairs', '4', '--window', '4', '--duration', '1.5', '--no-ceilings']);
  assertCorrect(t, summary, dir);
  t.ok(summary.acked > 0, 'messages were acknowledged');
  t.equal(summary.undelivered, 0, 'every message reached its recipient');
  t.equal(result.verification?.seq_gaps, 0, 'seqs gap-free');
  t.equal(summary['nodes'], 2);
  t.equal(summary['cross'], 1);
  t.equal(summary['forwarded_share'], 1, 'the nodes forwarded every send exactly once');
  t.equal(result.cpu.nodes.length, 2, 'CPU read per node');
  t.ok(result.cpu.nodes.every((n) => n.cpu_s !== null && n.main_thread_cpu_s !== null), 'each node\'s process and main thread measured');
  t.ok((summary['node_cpu_us_per_ack'] as number) > 0, 'CPU per acknowledged message of the nodes');
  // PostgreSQL's figure sums every postgres process, and backends of other work on
  // the same server that exit during a short run take their CPU with them: it is
  // measured (a number), but on a shared server a 2-second run may see it at 0.
  t.type(summary['postgres_cpu_us_per_ack'], 'number', 'CPU per acknowledged message of PostgreSQL measured');
  t.ok(result.node_traffic.every((n) => n !== null && n.requests_forwarded > 0), 'each node forwarded requests');
});

t.test('two nodes, idle: connections spread over both', async (t) => {
  const { summary, dir } = await runOnCluster(['idle', '--connections', '60', '--duration', '0.5']);
  assertCorrect(t, summary, dir);
  t.equal(summary['connections'], 60);
  t.equal(summary['alive'], 60, 'every connection answered a ping after the hold');
  t.equal(summary['node_1_connections'], 30);
  t.equal(summary['node_2_connections'], 30);
  t.equal(summary['refused'], 0);
});
