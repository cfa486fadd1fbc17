/** Helpers for the scheduled-message tests: collecting msg.new, reading rows and jobs. */
import type { WhisprClient } from '@whispr/client';
import type { Message } from '@whispr/protocol';
import pg from 'pg';

export function collect(c: WhisprClient, conversationId: string): Message[] {
  const got: Message[] = [];
  c.on('msg.new', (ev) => {
    if (ev.message.conversation_id === conversationId) got.push(ev.message);
  });
  return got;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RowState {
  is_sent: boolean;
  is_cancelled: boolean;
  failed_at: number | null;
  failure: string | null;
  message_id: string | null;
}

export async function rowOf(databaseUrl: string, id: string): Promise<RowState | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<RowState>('SELECT is_sent, is_cancelled, failed_at, failure, message_id FROM scheduled_messages WHERE id = $1', [id]);
    return r.rows[0] ?? null;
  } finally {
    await client.end();
  }
}

export async function messagesWith(databaseUrl: string, conversationId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND message_type <> 'system'", [conversationId]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
