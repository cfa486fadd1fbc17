import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import pg from 'pg';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { redactUrl, resolveServices } from '../src/services.ts';
import { probeRedis } from '../src/local-redis.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
// Each run gets its own database, so parallel runs and other test files never meet.
const database = `whispr_services_test_${process.pid}`;
const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

async function query(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A port nothing listens on (the OS picked it and it was released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

t.teardown(async () => {
  await query(adminUrl, `DROP DATABASE IF EXISTS ${database}`);
});

t.test('DATABASE_URL and a reachable REDIS_URL are used as given', async (t) => {
  const services = await resolveServices({ databaseUrl: 'postgres://someone@db.example:5432/x', redisUrl: 'redis://127.0.0.1:6379/3' }, logger);
  t.equal(services.databaseUrl, 'postgres://someone@db.example:5432/x');
  t.equal(services.redisUrl, 'redis://127.0.0.1:6379/3');
  await services.stop();
});

t.test('without DATABASE_URL the local PostgreSQL is used and the database created', async (t) => {
  const services = await resolveServices({ databaseUrl: undefined, redisUrl: undefined }, logger, { database });
  t.equal(services.databaseUrl, `postgres://postgres@127.0.0.1:5432/${database}`);
  t.equal(services.redisUrl, 'redis://127.0.0.1:6379');
  const rows = await query(services.databaseUrl, 'SELECT current_database() AS db');
  t.equal(rows.rows[0]?.db, database);
  await services.stop();
  // A second resolve finds the database already there.
  const again = await resolveServices({ databaseUrl: undefined, redisUrl: undefined }, logger, { database });
  t.equal(again.databaseUrl, services.databaseUrl);
  await again.stop();
  t.equal((await probeRedis('redis://127.0.0.1:6379')).state, 'ok', 'stop() leaves a Redis it did not start running');
});

t.test('a local redis-server is started when nothing answers, and stopped by stop()', async (t) => {
  const port = await unusedPort();
  const dataDir = mkdtempSync(join(tmpdir(), 'whispr-services-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const url = `redis://127.0.0.1:${port}`;
  const services = await resolveServices({ databaseUrl: adminUrl, redisUrl: url }, logger, { dataDir });
  t.equal(services.redisUrl, url);
  const client = new Redis(url);
  t.equal(await client.set('k', 'v'), 'OK');
  t.equal(await client.get('k'), 'v');
  client.disconnect();
  await services.stop();
  await services.stop(); // idempotent
  t.equal((await probeRedis(url, 500)).state, 'unreachable', 'the started redis-server is gone');
});

t.test('no Redis and no redis-server: a clear error', async (t) => {
  const port = await unusedPort();
  await t.rejects(
    resolveServices({ databaseUrl: adminUrl, redisUrl: `redis://127.0.0.1:${port}` }, logger, { env: { PATH: '/nonexistent' } }),
    { message: /redis-server is not installed.*apt-get install redis-server.*REDIS_URL/ },
  );
});

t.test('an unreachable Redis elsewhere is not started locally', async (t) => {
  const port = await unusedPort();
  await t.rejects(resolveServices({ databaseUrl: adminUrl, redisUrl: `redis://127.0.0.2:${port}` }, logger), {
    message: /started only for redis:\/\/127\.0\.0\.1, localhost or \[::1\]/,
  });
});

t.test('bad options are refused', async (t) => {
  await t.rejects(resolveServices({ databaseUrl: adminUrl, redisUrl: undefined }, logger, { database: 'no; drop' }), {
    name: 'TypeError',
    message: /options.database/,
  });
});

t.test('redactUrl hides passwords', async (t) => {
  t.equal(redactUrl('postgres://u:secret@h:1/db'), 'postgres://u:***@h:1/db');
  t.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
});

// What `pnpm start` does on a machine without PostgreSQL: initdb and start the embedded
// server (about 5 s here), so it always runs.
t.test(
  'the embedded PostgreSQL starts when no local server answers',
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'whispr-embedded-'));
    // The server may run as the postgres OS user, which must be able to enter the folder.
    chmodSync(dataDir, 0o755);
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const services = await resolveServices({ databaseUrl: undefined, redisUrl: undefined }, logger, {
      dataDir,
      localPostgres: { host: '127.0.0.1', port: await unusedPort() },
      embeddedPostgresPort: await unusedPort(),
    });
    t.teardown(() => services.stop());
    const rows = await query(services.databaseUrl, "SELECT current_database() AS db, current_setting('server_encoding') AS enc");
    t.same(rows.rows[0], { db: 'whispr', enc: 'UTF8' });
    await services.stop();
    await t.rejects(query(services.databaseUrl, 'SELECT 1'), 'stopped with stop()');
  },
);
