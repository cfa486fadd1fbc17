/**
 * The Redis half of the embedded default (DESIGN.md "Embedded default and real
 * services"): probe a Redis URL, and when nothing answers on this machine,
 * start the machine's own `redis-server` as a child process of the node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RedisProbe =
  | { state: 'ok' }
  /** Nothing listens there (refused, timed out, unknown host): starting one may help. */
  | { state: 'unreachable'; error: Error }
  /** Something answered but refused us (auth, TLS, not Redis): starting another would not help. */
  | { state: 'refused'; error: Error };

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET']);

function errorCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Connects once (no retries) and sends PING. */
export async function probeRedis(url: string, timeoutMs = 2000): Promise<RedisProbe> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // One attempt: the point is to learn whether a Redis is there, not to wait for one.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // ioredis reports a failed connect as "Connection is closed."; the socket's own
  // error (ECONNREFUSED, ...) arrives as an event, and says more.
  let socketError: Error | undefined;
  client.on('error', (err: Error) => {
    socketError = err;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') return { state: 'refused', error: new Error(`PING answered ${JSON.stringify(pong)}`) };
    return { state: 'ok' };
  } catch (err) {
    const error = socketError ?? asError(err);
    const code = errorCode(error);
    const unreachable =
      (code !== undefined && UNREACHABLE_CODES.has(code)) || /connect ETIMEDOUT|Connection is closed|ECONNREFUSED/.test(error.message);
    return unreachable ? { state: 'unreachable', error } : { state: 'refused', error };
  } finally {
    client.disconnect();
  }
}

/** The path of `redis-server` on PATH, or null when it is not installed. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry; the next one may have it.
    }
  }
  return null;
}

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

export interface StartLocalRedisOptions {
  binary: string;
  port: number;
  /** Working directory of the server; it writes nothing there with persistence off, but needs one. */
  dataDir: string;
  logger: Logger;
  /** How long to wait for the server to answer PING. */
  readyTimeoutMs?: number;
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` (and [::1] where there is IPv6, as
 * `localhost` may resolve to either) with persistence off (the node keeps
 * nothing in Redis that PostgreSQL cannot rebuild) and waits until it answers.
 */
export async function startLocalRedis(options: StartLocalRedisOptions): Promise<LocalRedis> {
  const { binary, port, dataDir, logger, readyTimeoutMs = 10_000 } = options;
  mkdirSync(dataDir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '-::1', '--dir', dataDir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString('utf8').trimEnd();
    output.push(text);
    if (output.length > 50) output.shift();
    logger.debug({ redis: text }, 'redis-server output');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => null)]);
    if (failed) throw new Error(`could not run ${binary}: ${failed.message}`, { cause: failed });
    if (exited !== null) {
      const { code, signal } = exited;
      throw new Error(`redis-server exited at start-up (code ${String(code)}, signal ${String(signal)}):\n${output.join('\n')}`);
    }
    const probe = await probeRedis(url, 500);
    if (probe.state === 'ok') break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`redis-server did not answer on ${url} within ${readyTimeoutMs} ms:\n${output.join('\n')}`, {
        cause: probe.error,
      });
    }
  }
  logger.info({ redisPid: child.pid, url, dataDir }, 'started a local redis-server');

  let stopping: Promise<void> | null = null;
  return {
    url,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (exited === null) {
          // SIGTERM: redis-server shuts down cleanly (and saves nothing, as configured).
          child.kill('SIGTERM');
          await exit;
        }
        logger.info({ url }, 'stopped the local redis-server');
      })();
      return stopping;
    },
  };
}
