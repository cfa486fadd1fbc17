/**
 * Scratch PostgreSQL databases: one for the node under test (it migrates it on
 * start) and one for the write ceiling, which gets the node's exact schema by
 * copying it, so the ceiling pays for the same indexes, constraints and triggers.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** The server scratch databases are made on: BENCH_PG_ADMIN_URL, else DATABASE_URL (as the tests use it), else the local one. */
export const defaultAdminUrl = (): string =>
  process.env['BENCH_PG_ADMIN_URL'] || process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

/** The same server and credentials as `url`, another database name. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createScratchDatabase(label: string, adminUrl = defaultAdminUrl()): Promise<ScratchDatabase> {
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 20);
  const name = `wbench_${safeLabel}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(adminUrl, name),
    // FORCE: a node killed mid-run may leave sessions behind that would block the drop.
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Copies the schema (no rows) of one database into another with pg_dump | psql. */
export async function copySchema(fromUrl: string, toUrl: string): Promise<void> {
  const dump = spawn('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', fromUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn('psql', ['-q', '-v', 'ON_ERROR_STOP=1', toUrl], { stdio: ['pipe', 'ignore', 'pipe'] });
  dump.stdout.pipe(load.stdin);
  const errors: string[] = [];
  dump.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  load.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = (child: ReturnType<typeof spawn>): Promise<number> =>
    new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  const [dumpCode, loadCode] = await Promise.all([exited(dump), exited(load)]);
  if (dumpCode !== 0 || loadCode !== 0) {
    throw new Error(`copying the schema failed (pg_dump ${dumpCode}, psql ${loadCode}): ${errors.join('').slice(0, 2000)}`);
  }
}
