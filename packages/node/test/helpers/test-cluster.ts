/**
 * Several real nodes in this process, forming one cluster: one migrated database,
 * one Redis key prefix, each node its own port, id and shard threads. For tests
 * of what crosses nodes; packages that need separate processes (kill -9, SIGSTOP)
 * use the cluster launcher instead.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import type { Test } from 'tap';
import { DEFAULT_LIMITS, type Limits } from '@whispr/protocol';
import { createTestDatabase } from '@whispr/store/testing';
import { WhisprClient } from '@whispr/client';
import type { GrpcServerConfig } from '@whispr/grpc';
import { startNode, type RunningNode } from '../../src/node.ts';
import { REDIS_URL, TEST_SECRET } from './test-node.ts';

export interface TestClusterOptions {
  workers?: number;
  limits?: Partial<Limits>;
  nodeGraceMs?: number;
  /** Every node serves the internal gRPC API with this (port 0: each its own free port). */
  grpc?: GrpcServerConfig;
}

export interface TestCluster {
  nodes: RunningNode[];
  databaseUrl: string;
  redisPrefix: string;
  redis: Redis;
  connect(userId: string, node: number, encoding?: 'json' | 'msgpack'): Promise<WhisprClient>;
  /** Index of the node that owns `key` in the ring (as node 0 sees it). */
  ownerIndex(key: string): number;
  /** Resolves once every node sees all of them in its ring. */
  converged(): Promise<void>;
}

export async function startTestCluster(t: Test, count: number, options: TestClusterOptions = {}): Promise<TestCluster> {
  const db = await createTestDatabase(t.name.replace(/[^a-z0-9]+/gi, '_').slice(0, 20));
  const redisPrefix = `t:${randomBytes(6).toString('hex')}:`;
  const nodes: RunningNode[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await startNode({
        port: 0, host: '127.0.0.1', databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix,
        jwt: { secret: TEST_SECRET, devSecret: false }, dev: false,
        workers: options.workers ?? 1, shardWriters: 1, nodeId: `n${i}-${randomBytes(2).toString('hex')}`,
        logLevel: 'warn', limits: { ...DEFAULT_LIMITS, ...options.limits }, socketBacklogBytes: 1024 * 1024,
        nodeGraceMs: options.nodeGraceMs ?? 3000,
        ...(options.grpc !== undefined ? { grpc: options.grpc } : {}),
        logger: pino({ level: process.env.WHISPR_TEST_LOG ?? 'warn' }),
      }),
    );
  }
  const redis = new Redis(REDIS_URL);
  const clients: WhisprClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined /* closed by the test */)));
    await Promise.all(nodes.map((n) => n.stop()));
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
  });
  const secret = new TextEncoder().encode(TEST_SECRET);
  const connect = async (userId: string, node: number, encoding: 'json' | 'msgpack' = 'json'): Promise<WhisprClient> => {
    const target = nodes[node];
    if (!target) throw new RangeError(`no node ${node}`);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('1h').sign(secret);
    const client = await WhisprClient.connect({ url: target.wsUrl, token, encoding });
    clients.push(client);
    return client;
  };
  const ownerIndex = (key: string): number => {
    const owner = nodes[0]?.routing.ownerOf(key);
    if (!owner) throw new Error(`no owner for ${key}`);
    const id = owner.kind === 'local' ? nodes[0]?.nodeId : owner.node;
    return nodes.findIndex((n) => n.nodeId === id);
  };
  const converged = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if (nodes.every((n) => n.membership.liveNodes.length === count && n.membership.serving)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the cluster did not converge');
  };
  await converged();
  return { nodes, databaseUrl: db.url, redisPrefix, redis, connect, ownerIndex, converged };
}
