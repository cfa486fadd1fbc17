/**
 * What the bus tests share: a key prefix of their own on the shared Redis, a
 * logger whose lines can be counted, and waiting for what a bus emits.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Bus, BusEvents } from '../../src/bus.ts';

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every test its own channels: other engineers' tests share this Redis. */
export const randomPrefix = (): string => `test:bus:${randomBytes(6).toString('hex')}:`;

export interface CapturedLogger {
  logger: Logger;
  /** Parsed log lines so far. */
  lines: Record<string, unknown>[];
}

export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

export interface Received {
  from: string;
  payload: Buffer;
}

/** Collects every payload a bus delivers (copied, so later reads cannot change them). */
export function collect(bus: Bus): Received[] {
  const received: Received[] = [];
  bus.on('message', (from, payload) => received.push({ from, payload: Buffer.from(payload) }));
  return received;
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function nextEvent<E extends keyof BusEvents>(bus: Bus, event: E, timeoutMs = 15_000): Promise<void> {
  await once(bus, event, { signal: AbortSignal.timeout(timeoutMs) });
}
