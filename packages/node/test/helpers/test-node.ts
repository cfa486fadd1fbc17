/**
 * A real node for a test: its own migrated database, its own Redis key prefix,
 * its own port, real worker threads. Everything is removed at teardown.
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

export const TEST_SECRET = 'test-secret-for-whispr';
/** The Redis the tests use: REDIS_URL, as `npm test` checks it, else the local one. */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export interface TestNodeOptions {
  workers?: number;
  shardWriters?: number;
  limits?: Partial<Limits>;
  socketBacklogBytes?: number;
  actorIdleMs?: number;
  maxActorsPerShard?: number;
  /** Serve the internal gRPC API (port 0: a free one; node.grpcPort says which). */
  grpc?: GrpcServerConfig;
}

export interface TestNode {
  node: RunningNode;
  databaseUrl: string;
  redisPrefix: string;
  redis: Redis;
  token(userId: string, expiresInSeconds?: number): Promise<string>;
  connect(userId: string, encoding?: 'json' | 'msgpack'): Promise<WhisprClient>;
}

export async function startTestNode(t: Test, options: TestNodeOptions = {}): Promise<TestNode> {
  const label = t.name.replace(/[^a-z0-9]+/gi, '_').slice(0, 20);
  const db = await createTestDatabase(label);
  const redisPrefix = `t:${randomBytes(6).toString('hex')}:`;
  const nodeId = `test-${randomBytes(3).toString('hex')}`;
  const node = await startNode({
    port: 0,
    host: '127.0.0.1',
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    redisPrefix,
    jwt: { secret: TEST_SECRET, devSecret: false },
    dev: false,
    workers: options.workers ?? 2,
    shardWriters: options.shardWriters ?? 2,
    nodeId,
    logLevel: 'warn',
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    socketBacklogBytes: options.socketBacklogBytes ?? 1024 * 1024,
    ...(options.actorIdleMs !== undefined ? { actorIdleMs: options.actorIdleMs } : {}),
    ...(options.maxActorsPerShard !== undefined ? { maxActorsPerShard: options.maxActorsPerShard } : {}),
    ...(options.grpc !== undefined ? { grpc: options.grpc } : {}),
    logger: pino({ level: process.env.WHISPR_TEST_LOG ?? 'warn' }),
  });
  const redis = new Redis(REDIS_URL);
  const clients: WhisprClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined /* already closed by the test */)));
    await node.stop();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
  });
  const secret = new TextEncoder().encode(TEST_SECRET);
  const token = async (userId: string, expiresInSeconds = 3600): Promise<string> =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds).sign(secret);
  const connect = async (userId: string, encoding: 'json' | 'msgpack' = 'json'): Promise<WhisprClient> => {
    const client = await WhisprClient.connect({ url: node.wsUrl, token: await token(userId), encoding });
    clients.push(client);
    return client;
  };
  return { node, databaseUrl: db.url, redisPrefix, redis, token, connect };
}
