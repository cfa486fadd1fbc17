// migrate() on empty databases: concurrent callers, repeated calls, and a
// database where uuid-ossp is already installed.

import t from 'tap';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, MIGRATIONS_TABLE } from '../src/migrate.ts';
import { testAdminUrl } from '../src/test-database.ts';

const adminUrl = testAdminUrl();

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** An empty database (no template: these tests exercise the migrations themselves). */
async function emptyDatabase(t: { teardown(fn: () => unknown): void }, label: string): Promise<string> {
  const name = `whispr_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`));
  t.teardown(() =>
    withClient(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`)),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function appliedMigrations(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const result = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    return result.rows.map((r) => r.name);
  });
}

t.test('concurrent callers apply each migration exactly once', async (t) => {
  const url = await emptyDatabase(t, 'migrate_concurrent');
  await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
  const applied = await appliedMigrations(url);
  t.ok(applied.length >= 6, 'all migrations recorded');
  t.equal(new Set(applied).size, applied.length, 'no migration recorded twice');
  t.equal(applied[0], '0001_seed_schema');

  await migrate({ databaseUrl: url });
  t.same(await appliedMigrations(url), applied, 'a later call is a no-op');
});

t.test('works when uuid-ossp already exists', async (t) => {
  const url = await emptyDatabase(t, 'migrate_ext');
  await withClient(url, (client) => client.query('CREATE EXTENSION "uuid-ossp"'));
  await migrate({ databaseUrl: url });
  const count = await withClient(url, async (client) => {
    await client.query(`INSERT INTO conversations (type) VALUES ('direct')`);
    return (await client.query('SELECT 1 FROM conversations')).rowCount;
  });
  t.equal(count, 1, 'uuid_generate_v4 defaults work');
});

t.test('rejects a bad databaseUrl by name', async (t) => {
  await t.rejects(migrate({ databaseUrl: 'mysql://x' }), /"databaseUrl"/);
});
