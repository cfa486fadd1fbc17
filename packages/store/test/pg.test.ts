// The pool's UTC session and its per-pool type parsers.

import t from 'tap';
import pg from 'pg';
import { createPgPool, parsePgTimestamp, toPgTimestamp } from '../src/pg.ts';
import { createTestDatabase } from '../src/test-database.ts';

const db = await createTestDatabase('pg');
const pool = createPgPool({ connectionString: db.url, max: 2, applicationName: 'whispr-pg-test' });
t.teardown(async () => {
  await pool.end();
  await db.drop();
});

t.test('sessions run in UTC and timestamps come back as UTC ms', async (t) => {
  const at = Date.UTC(2026, 10, 25, 0, 49, 3, 123);
  const row = (
    await pool.query<Record<string, unknown>>(
      `SELECT current_setting('timezone') AS tz, current_setting('application_name') AS app,
              $1::timestamp AS ts, $1::timestamp AT TIME ZONE 'UTC' AS tstz,
              NOW()::timestamp AS now_ts, NOW() AS now_tz`,
      [toPgTimestamp(at)],
    )
  ).rows[0];
  t.equal(row?.['tz'], 'UTC');
  t.equal(row?.['app'], 'whispr-pg-test');
  t.equal(row?.['ts'], at, 'TIMESTAMP');
  t.equal(row?.['tstz'], at, 'TIMESTAMPTZ');
  t.type(row?.['now_ts'], 'number');
  t.ok(Math.abs(Number(row?.['now_ts']) - Date.now()) < 60_000, 'NOW() stored in a TIMESTAMP is UTC');
  t.equal(row?.['now_ts'], row?.['now_tz'], 'TIMESTAMP and TIMESTAMPTZ agree');
});

t.test('INT8 and arrays of INT8/TIMESTAMP parse to numbers', async (t) => {
  const row = (
    await pool.query<Record<string, unknown>>(
      `SELECT 9007199254740991::int8 AS big, count(*) AS n,
              ARRAY[1, NULL, 3]::int8[] AS ints,
              ARRAY[ARRAY['1970-01-01 00:00:01'::timestamp], ARRAY[NULL::timestamp]] AS nested`,
    )
  ).rows[0];
  t.equal(row?.['big'], Number.MAX_SAFE_INTEGER);
  t.equal(row?.['n'], 1);
  t.same(row?.['ints'], [1, null, 3]);
  t.same(row?.['nested'], [[1000], [null]]);
  await t.rejects(pool.query('SELECT 9007199254740993::int8 AS x'), /safe integer/);
});

t.test("pg's global parsers are untouched", async (t) => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(() => client.end());
  const row = (await client.query<{ n: unknown }>('SELECT 1::int8 AS n')).rows[0];
  t.equal(row?.n, '1');
});

t.test('parsePgTimestamp reads the text forms PostgreSQL sends', async (t) => {
  t.equal(parsePgTimestamp('2026-11-25 00:49:03.123456'), Date.UTC(2026, 10, 25, 0, 49, 3, 123));
  t.equal(parsePgTimestamp('2026-11-25 00:49:03'), Date.UTC(2026, 10, 25, 0, 49, 3));
  t.equal(parsePgTimestamp('2026-11-25 02:49:03.5+02'), Date.UTC(2026, 10, 25, 0, 49, 3, 500));
  t.equal(parsePgTimestamp('2026-11-24 19:19:03-05:30'), Date.UTC(2026, 10, 25, 0, 49, 3));
  t.equal(parsePgTimestamp('0050-01-01 00:00:00'), -60589296000000, 'years below 100 are not 19xx');
  t.equal(parsePgTimestamp('infinity'), Infinity);
  t.equal(parsePgTimestamp('-infinity'), -Infinity);
  t.throws(() => parsePgTimestamp('yesterday'));
});

t.test('toPgTimestamp writes UTC literals and refuses what it cannot', async (t) => {
  t.equal(toPgTimestamp(Date.UTC(2026, 10, 25, 0, 49, 3, 123)), '2026-11-25 00:49:03.123');
  t.equal(toPgTimestamp(0), '1970-01-01 00:00:00.000');
  t.throws(() => toPgTimestamp(Number.NaN), RangeError);
  t.throws(() => toPgTimestamp(Date.UTC(10000, 0, 1)), RangeError);
});

t.test('createPgPool names the bad option', async (t) => {
  t.throws(() => createPgPool({ connectionString: '' }), /"connectionString"/);
  t.throws(() => createPgPool({ connectionString: db.url, max: 0 }), /"max"/);
  t.throws(() => createPgPool({ connectionString: db.url, max: 1.5 }), /"max"/);
  t.throws(() => createPgPool({ connectionString: db.url, applicationName: '' }), /"applicationName"/);
});
