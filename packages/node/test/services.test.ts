import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import pg from 'pg';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { testAdminUrl } from '@whispr/store/testing';
import { redactUrl, resolveServices } from '../src/services.ts';
import { probeRedis } from '../src/local-redis.ts';
import { DEFAULT_SHARED_ROOT } from '../src/embedded-postgres.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
// Each run gets its own database, so parallel runs and other test files never meet.
const database = `whispr_services_test_${process.pid}`;
// The servers npm test checks: DATABASE_URL's server, REDIS_URL (undefined: the node's default, 127.0.0.1:6379).
const adminUrl = testAdminUrl();
const admin = new URL(adminUrl);
const localPostgres = { host: admin.hostname, port: Number(admin.port || 5432) };
const redisUrl = process.env.REDIS_URL || undefined;

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
  const given = redisUrl ?? 'redis://127.0.0.1:6379/3';
  const services = await resolveServices({ databaseUrl: 'postgres://someone@db.example:5432/x', redisUrl: given }, logger);
  t.equal(services.databaseUrl, 'postgres://someone@db.example:5432/x');
  t.equal(services.redisUrl, given);
  await services.stop();
});

t.test('without DATABASE_URL the local PostgreSQL is used and the database created', async (t) => {
  const services = await resolveServices({ databaseUrl: undefined, redisUrl }, logger, { database, localPostgres });
  t.match(services.databaseUrl, new RegExp(`^postgres://[^@/]+@${localPostgres.host.replace(/\./g, '\\.')}:${localPostgres.port}/${database}$`));
  t.equal(services.redisUrl, redisUrl ?? 'redis://127.0.0.1:6379');
  t.equal(services.embeddedPostgresDataDir, undefined, 'no embedded server');
  const rows = await query(services.databaseUrl, 'SELECT current_database() AS db');
  t.equal(rows.rows[0]?.db, database);
  await services.stop();
  // A second resolve finds the database already there.
  const again = await resolveServices({ databaseUrl: undefined, redisUrl }, logger, { database, localPostgres });
  t.equal(again.databaseUrl, services.databaseUrl);
  await again.stop();
  t.equal((await probeRedis(services.redisUrl)).state, 'ok', 'stop() leaves a Redis it did not start running');
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

// What `npm start` does on a machine without PostgreSQL: initdb and start the embedded
// server (about 5 s here), so it always runs. Its data folder is private (0700, as
// mkdtemp makes it, like a checkout under /root): as root, PostgreSQL runs as the
// postgres OS user, who cannot enter it, so binaries and data go under /var/lib/whispr.
t.test('the embedded PostgreSQL starts when no local server answers, in a folder other users cannot enter', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whispr-embedded-'));
  t.equal(statSync(dataDir).mode & 0o777, 0o700, 'a private folder');
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const services = await resolveServices({ databaseUrl: undefined, redisUrl }, logger, {
    dataDir,
    localPostgres: { host: '127.0.0.1', port: await unusedPort() },
    embeddedPostgresPort: await unusedPort(),
  });
  t.teardown(() => services.stop());
  const pgData = services.embeddedPostgresDataDir ?? '';
  if (userInfo().uid === 0) {
    t.ok(pgData.startsWith(`${DEFAULT_SHARED_ROOT}/clusters/`), `as root, the data lives under ${DEFAULT_SHARED_ROOT}: ${pgData}`);
    // The cluster folder is this test's alone (keyed by its data folder); the binaries' copy is shared and stays.
    t.teardown(() => rmSync(dirname(pgData), { recursive: true, force: true }));
    t.equal(statSync(dataDir).mode & 0o777, 0o700, "the user's folder was not opened up");
    t.equal(statSync(pgData).mode & 0o777, 0o700, 'the data folder is private to its owner');
  } else {
    t.equal(pgData, join(dataDir, 'postgres'), 'not root: the data lives in the data folder');
  }
  const rows = await query(services.databaseUrl, "SELECT current_database() AS db, current_setting('server_encoding') AS enc");
  t.same(rows.rows[0], { db: 'whispr', enc: 'UTF8' });
  await services.stop();
  await t.rejects(query(services.databaseUrl, 'SELECT 1'), 'stopped with stop()');

  // A second start reuses the cluster the first one made.
  const again = await resolveServices({ databaseUrl: undefined, redisUrl }, logger, {
    dataDir,
    localPostgres: { host: '127.0.0.1', port: await unusedPort() },
    embeddedPostgresPort: await unusedPort(),
  });
  t.teardown(() => again.stop());
  t.equal(again.embeddedPostgresDataDir, pgData, 'the same data folder on a later start');
  t.same((await query(again.databaseUrl, 'SELECT 1 AS one')).rows[0], { one: 1 });
  await again.stop();
});
