/**
 * The node a fuzz run aims at: by default one it starts itself (as the bench
 * does: fresh database, own Redis prefix, free port, random JWT secret, its log
 * in the results folder) with a send rate high enough that valid sends are not
 * all refused as rate_limited; or a running node (--url).
 */
import { join } from 'node:path';
import { createScratchDatabase } from '../../target/databases.ts';
import { deleteRedisPrefix } from '../../target/redis-cleanup.ts';
import { DEFAULT_REDIS_URL, spawnNode } from '../../target/spawn-node.ts';
import type { Target } from '../../target/target.ts';
import type { FuzzOptions } from './fuzz-options.ts';

/** Per-sender sends a second (and burst) of the fuzz node: generous, yet a real limiter still runs. */
export const FUZZ_SEND_RATE = 100_000;

export interface FuzzTarget extends Target {
  /** Settles with how the node exited; never settles for a node this run did not start. */
  exited: Promise<string>;
  logPath: string | null;
}

export async function fuzzTarget(options: FuzzOptions, dir: string): Promise<FuzzTarget> {
  if (options.url !== null) {
    const parsed = new URL(options.url);
    if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws';
    const node = {
      nodeId: null,
      wsUrl: parsed.toString().replace(/\?.*$/, ''),
      httpUrl: `${parsed.protocol === 'wss:' ? 'https' : 'http'}://${parsed.host}`,
      serverPid: options.serverPid,
    };
    return {
      ...node,
      nodes: [node],
      jwtSecret: options.jwtSecret ?? '',
      databaseUrl: options.databaseUrl,
      workers: options.workers,
      writers: 0,
      redis: null,
      spawned: false,
      exited: new Promise<string>(() => undefined),
      logPath: null,
      stop: async () => undefined,
    };
  }
  const database = await createScratchDatabase('fuzz');
  const logPath = join(dir, 'node.log');
  try {
    const node = await spawnNode({
      databaseUrl: database.url,
      redisUrl: DEFAULT_REDIS_URL,
      workers: options.workers,
      logPath,
      env: { WHISPR_SEND_RATE_PER_S: String(FUZZ_SEND_RATE), WHISPR_SEND_BURST: String(FUZZ_SEND_RATE), WHISPR_OP_RATE_SCALE: String(FUZZ_SEND_RATE / 50), LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' },
    });
    let stopped: Promise<void> | null = null;
    return {
      ...node,
      logPath,
      stop: () =>
        (stopped ??= (async () => {
          await node.stop();
          await deleteRedisPrefix(DEFAULT_REDIS_URL, node.redisPrefix).catch(() => 0);
          await database.drop();
        })()),
    };
  } catch (err) {
    await database.drop().catch(() => undefined);
    throw err;
  }
}
