/**
 * A cluster of real node processes on loopback for a test (cluster/src/node-process.ts
 * starts each as `npm start` would): its own migrated database, its own Redis key
 * prefix (on the shared Redis, or on a redis-server of the test's own), a free
 * port per node. The test may kill -9, SIGSTOP, SIGCONT or add nodes. Everything
 * is torn down at the end, failed tests included: every process is SIGKILLed
 * (continued first if stopped), the database dropped, the prefix's keys deleted;
 * a failing test prints the tail of each node's log (WHISPR_TEST_NODE_LOGS=1: every
 * test; WHISPR_TEST_NODE_LOG_LINES: how many lines, default 60; WHISPR_TEST_LOG:
 * the nodes' LOG_LEVEL, default warn).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { createPgPool, RedisKeys } from '@whispr/store';
import { createTestDatabase } from '@whispr/store/testing';
import { mintDevToken, WhisprClient } from '@whispr/client';
import { HashRing } from '../../src/hash-ring.ts';
import { NodeProcess } from '../../src/node-process.ts';
import { readRegistry } from '../../src/registry-redis.ts';

export const SHARED_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const SECRET = `process-cluster-${randomBytes(8).toString('hex')}`;
const LOG_TAIL = Number(process.env.WHISPR_TEST_NODE_LOG_LINES) || 60;

export interface ProcessClusterOptions {
  nodes: number;
  /** WHISPR_NODE_GRACE_MS (default 3000, the node's default). */
  graceMs?: number;
  /** WHISPR_WORKERS per node, one value for all or one per node (default 0: one shard in the main thread). */
  workers?: number | number[];
  /** Default the shared Redis; a test that restarts Redis passes its own. */
  redisUrl?: string;
}

export type Pool = ReturnType<typeof createPgPool>;

/** The ring as the registry's live nodes make it, with each slot's node. */
export interface RingView {
  ring: HashRing;
  nodeOfSlot: Map<string, string>;
  ownerOf(key: string): string;
}

export interface ProcessCluster {
  /** Every node started so far, in order (dead ones stay, so indexes do not move). */
  readonly nodes: NodeProcess[];
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly graceMs: number;
  /** A pool on the test's database, for checks. */
  readonly pg: Pool;
  token(userId: string): Promise<string>;
  connect(userId: string, node: number, requestTimeoutMs?: number): Promise<WhisprClient>;
  /** Starts one more node with the same settings; resolves once it is ready. */
  addNode(workers?: number): Promise<NodeProcess>;
  /** The ring of the live nodes in the registry. */
  ringView(): Promise<RingView>;
  /** Resolves once every running node's (or those of `among`) /metrics says it sees `count` nodes and serves. */
  converged(count: number, timeoutMs?: number, among?: number[]): Promise<void>;
  /** One node's /metrics, name{labels} -> value. */
  metrics(node: number): Promise<Map<string, number>>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

export async function startProcessCluster(t: Test, o: ProcessClusterOptions): Promise<ProcessCluster> {
  const db = await createTestDatabase(t.name.replace(/[^a-z0-9]+/gi, '_').slice(0, 20) || 'cluster');
  const redisUrl = o.redisUrl ?? SHARED_REDIS_URL;
  const redisPrefix = `t:proc:${randomBytes(5).toString('hex')}:`;
  const graceMs = o.graceMs ?? 3000;
  const pg = createPgPool({ connectionString: db.url, max: 4, applicationName: 'whispr test checks' });
  const nodes: NodeProcess[] = [];
  const logs = new Map<NodeProcess, string[]>();
  const workersOf = (i: number): number => (Array.isArray(o.workers) ? (o.workers[i] ?? 0) : (o.workers ?? 0));

  const spawnOne = async (i: number, workers: number): Promise<NodeProcess> => {
    const lines: string[] = [];
    const node = new NodeProcess({
      nodeId: `node-${i + 1}`,
      host: '127.0.0.1',
      port: await freePort(),
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        WHISPR_REDIS_PREFIX: redisPrefix,
        WHISPR_JWT_SECRET: SECRET,
        WHISPR_WORKERS: String(workers),
        WHISPR_SHARD_WRITERS: '1',
        WHISPR_NODE_GRACE_MS: String(graceMs),
        // The tests measure failover, not the per-sender limiter.
        WHISPR_SEND_RATE_PER_S: '100000',
        WHISPR_SEND_BURST: '100000',
        LOG_LEVEL: process.env.WHISPR_TEST_LOG ?? 'warn',
      },
      onLine: (line) => {
        lines.push(line);
        if (lines.length > LOG_TAIL) lines.shift();
      },
    });
    nodes[i] = node;
    logs.set(node, lines);
    return node;
  };

  t.teardown(async () => {
    if (!t.passing() || process.env.WHISPR_TEST_NODE_LOGS === '1') {
      for (const n of nodes) t.comment(`--- ${n.nodeId} (last ${LOG_TAIL} lines) ---\n${(logs.get(n) ?? []).join('\n')}`);
    }
    for (const n of nodes) {
      n.signal('SIGCONT');
      n.signal('SIGKILL');
    }
    await Promise.all(nodes.map((n) => n.exited));
    await pg.end();
    await db.drop();
    // The shared Redis is shared with other engineers: only this prefix's keys go.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined /* a test's own Redis may be gone already */);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } catch {
      // The test's own redis-server was stopped: nothing left to delete.
    } finally {
      redis.disconnect();
    }
  });

  const started = await Promise.all(Array.from({ length: o.nodes }, (_, i) => spawnOne(i, workersOf(i))));
  await Promise.all(started.map((n) => n.waitReady(120_000)));

  const keys = new RedisKeys(redisPrefix);
  const cluster: ProcessCluster = {
    nodes, databaseUrl: db.url, redisUrl, redisPrefix, graceMs, pg,
    token: (userId) => mintDevToken({ userId, secret: SECRET, expiresInSeconds: 3600 }),
    async connect(userId, node, requestTimeoutMs = 6000) {
      const target = nodes[node];
      if (!target) throw new RangeError(`no node ${node}`);
      return WhisprClient.connect({ url: target.wsUrl, token: await cluster.token(userId), requestTimeoutMs, connectTimeoutMs: 5000 });
    },
    async addNode(workers = workersOf(nodes.length)) {
      const node = await spawnOne(nodes.length, workers);
      await node.waitReady(120_000);
      return node;
    },
    async ringView() {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        const now = Date.now();
        const live = (await readRegistry(redis, keys)).filter((e) => e.node && now - e.heartbeat <= graceMs);
        const nodeOfSlot = new Map(live.flatMap((e) => (e.node?.slots ?? []).map((s): [string, string] => [s, e.nodeId])));
        const ring = new HashRing(nodeOfSlot.keys());
        return {
          ring, nodeOfSlot,
          ownerOf(key) {
            const slot = ring.ownerOf(key);
            const node = slot === null ? undefined : nodeOfSlot.get(slot);
            if (node === undefined) throw new Error(`no owner for ${key}`);
            return node;
          },
        };
      } finally {
        redis.disconnect();
      }
    },
    async converged(count, timeoutMs = 30_000, among) {
      await waitUntil(`every running node sees ${count} nodes and serves`, async () => {
        const running = among ? among.map((i) => nodes[i]).filter((n): n is NodeProcess => n !== undefined) : nodes.filter((n) => n.running);
        const views = await Promise.all(running.map((n) => cluster.metrics(nodes.indexOf(n)).catch(() => new Map<string, number>())));
        return views.every((m) => m.get('whispr_cluster_nodes') === count && m.get('whispr_cluster_serving') === 1);
      }, timeoutMs, 200);
    },
    async metrics(node) {
      const target = nodes[node];
      if (!target) throw new RangeError(`no node ${node}`);
      const res = await fetch(`${target.httpUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
      const values = new Map<string, number>();
      for (const line of (await res.text()).split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const at = line.lastIndexOf(' ');
        values.set(line.slice(0, at), Number(line.slice(at + 1)));
      }
      return values;
    },
  };
  await cluster.converged(o.nodes);
  return cluster;
}

/** A counter summed over the running nodes' /metrics: every series whose name (labels included) starts with `prefix`. */
export async function sumMetric(c: ProcessCluster, prefix: string): Promise<number> {
  const all = await Promise.all(c.nodes.map((n, i) => (n.running ? c.metrics(i).catch(() => new Map<string, number>()) : new Map<string, number>())));
  return all.reduce((sum, m) => sum + [...m].filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0), 0);
}
