/**
 * Starts one Whispr node as a child process for a run (spawn-cluster.ts starts several): node with the tsx loader
 * (one process, so /proc/<pid> is the process that serves the sockets and hosts
 * the worker threads), its own database, Redis prefix and port, and rate limits
 * raised so the bench measures capacity rather than the per-sender limiter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { freePort } from '../util/free-port.ts';
import { repoRoot } from '../util/repo-root.ts';
import { guardChild } from '../util/child-guard.ts';
import { sleep } from '../util/time.ts';
import { committingWriters, DEFAULT_SHARD_WRITERS, type Target } from './target.ts';

export interface SpawnOptions {
  databaseUrl: string;
  redisUrl: string;
  workers: number;
  /** Batch writers per shard (default 2, the node's default). */
  shardWriters?: number;
  /** File that receives the node's stdout and stderr. */
  logPath: string;
  host?: string;
  readyTimeoutMs?: number;
  /** Extra environment (WHISPR_SOCKET_BACKLOG_BYTES, say). */
  env?: Record<string, string>;
  /** Extra node flags (--cpu-prof, say: NODE_OPTIONS refuses it). */
  nodeArgs?: string[];
  /** Nodes of one cluster share the secret and the Redis prefix; a lone node gets fresh ones. */
  jwtSecret?: string;
  redisPrefix?: string;
  /** WHISPR_NODE_ID (default `bench-<port>`). */
  nodeId?: string;
}

/** A fresh Redis key prefix for a run: its keys are deleted afterwards, and nobody else's match it. */
export const newRedisPrefix = (): string => `bench:${randomBytes(4).toString('hex')}:`;

/** A fresh JWT secret for the nodes of a run. */
export const newJwtSecret = (): string => randomBytes(24).toString('hex');

export const DEFAULT_REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

export interface SpawnedNode extends Target {
  redisPrefix: string;
  /** Settles when the node process exits, with how (`code 1`, `signal SIGSEGV`): a crash unless the run stopped it. */
  exited: Promise<string>;
}

export async function spawnNode(options: SpawnOptions): Promise<SpawnedNode> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const jwtSecret = options.jwtSecret ?? newJwtSecret();
  const redisPrefix = options.redisPrefix ?? newRedisPrefix();
  const nodeId = options.nodeId ?? `bench-${port}`;
  const log = createWriteStream(options.logPath);
  const child = guardChild(spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'packages/node/src/main.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: host,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      WHISPR_JWT_SECRET: jwtSecret,
      WHISPR_WORKERS: String(options.workers),
      WHISPR_SHARD_WRITERS: String(options.shardWriters ?? DEFAULT_SHARD_WRITERS),
      WHISPR_REDIS_PREFIX: redisPrefix,
      WHISPR_NODE_ID: nodeId,
      WHISPR_SEND_RATE_PER_S: '1000000',
      WHISPR_SEND_BURST: '1000000',
      WHISPR_OP_RATE_SCALE: '100000',
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
      ...options.env,
    },
  }));
  // Two sources into one file: neither may end it (the second would then write after end).
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal === null ? `code ${code ?? '?'}` : `signal ${signal}`)));
  const httpUrl = `http://${host}:${port}`;
  await waitReady(child, httpUrl, options.readyTimeoutMs ?? 90_000, options.logPath);
  const self = { nodeId, wsUrl: `ws://${host}:${port}/ws`, httpUrl, serverPid: child.pid ?? null };
  return {
    ...self,
    nodes: [self],
    jwtSecret,
    databaseUrl: options.databaseUrl,
    workers: options.workers,
    writers: committingWriters(options.workers, options.shardWriters),
    redis: { url: options.redisUrl, prefix: redisPrefix },
    spawned: true,
    redisPrefix,
    exited,
    stop: () => stopChild(child),
  };
}

async function waitReady(child: ChildProcess, httpUrl: string, timeoutMs: number, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the node exited with ${exited} before it was ready; see ${logPath}`);
    try {
      const res = await fetch(`${httpUrl}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stopChild(child);
  throw new Error(`the node was not ready within ${timeoutMs} ms; see ${logPath}`);
}

/** SIGTERM, then SIGKILL if it has not exited in 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
