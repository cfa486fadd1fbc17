/**
 * Rows written, as PostgreSQL itself counts them (pg_stat_user_tables), so the
 * report does not rely on the service's or the bench's own bookkeeping.
 * Backends flush these counters at most once a second: read them after a pause.
 */
import pg from 'pg';
import { sleep } from '../util/time.ts';

export type TableCounts = Record<string, number>;

export async function readInsertCounts(databaseUrl: string): Promise<TableCounts> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'whispr-bench-stats' });
  await client.connect();
  try {
    const { rows } = await client.query<{ relname: string; n_tup_ins: string }>(
      `SELECT relname, n_tup_ins FROM pg_stat_user_tables`,
    );
    return Object.fromEntries(rows.map((r) => [r.relname, Number(r.n_tup_ins)]));
  } finally {
    await client.end();
  }
}

/** Rows inserted per table between two readings (tables with none left out). */
export function insertedBetween(before: TableCounts, after: TableCounts): TableCounts {
  const delta: TableCounts = {};
  for (const [table, count] of Object.entries(after)) {
    const d = count - (before[table] ?? 0);
    if (d > 0) delta[table] = d;
  }
  return delta;
}

/**
 * pg_stat counters reach the shared view only when a backend flushes them (at
 * most once a second, up to 10 s late once it is idle): poll until they account
 * for the messages stored in the measured phase, for at most `waitS` seconds.
 */
export async function settledInsertCounts(databaseUrl: string, before: TableCounts, ackedMessages: number, waitS: number): Promise<TableCounts> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const delta = insertedBetween(before, await readInsertCounts(databaseUrl));
    const messages = Object.entries(delta).filter(([table]) => table.startsWith('messages')).reduce((sum, [, n]) => sum + n, 0);
    if (messages >= ackedMessages || Date.now() > deadline) return delta;
    await sleep(500);
  }
}
