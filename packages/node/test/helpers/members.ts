/** Small helpers for the membership, settings and blocks tests. */
import pg from 'pg';
import type { Test } from 'tap';
import type { WhisprClient } from '@whispr/client';
import { WhisprRequestError } from '@whispr/client';
import type { ConvUpdatedEvent, Message } from '@whispr/protocol';

/** The error code a request was refused with ('ok' when it succeeded). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof WhisprRequestError) return err.code;
    throw err;
  }
}

/** A PostgreSQL client on the test's database, closed at teardown. */
export async function dbOf(t: Test, url: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  return db;
}

/** Every msg.new and conv.updated a client hears, in arrival order. */
export interface Heard {
  messages: Message[];
  updates: ConvUpdatedEvent[];
  order: string[];
}

export function listen(c: WhisprClient): Heard {
  const heard: Heard = { messages: [], updates: [], order: [] };
  c.on('msg.new', (ev) => {
    heard.messages.push(ev.message);
    heard.order.push(`msg.new:${ev.message.seq}`);
  });
  c.on('conv.updated', (ev) => {
    heard.updates.push(ev);
    heard.order.push('conv.updated');
  });
  return heard;
}

export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
