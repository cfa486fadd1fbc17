// Throw-away, fully migrated databases for tests that run in parallel.
//
// Running the migrations for every test file would cost a second or more each;
// copying a database is much cheaper. So the migrations run once into a
// template database whose name carries a hash of the migration files (a schema
// change makes a new template, an unchanged one is reused across runs), and
// each test gets CREATE DATABASE ... TEMPLATE of it. Test processes start at
// the same time, so the template is built under an advisory lock, into a
// scratch name that is renamed only once complete: a crash mid-build never
// leaves a half-migrated template behind under the real name.
//
// Several checkouts (branches with different migrations) share one server, so
// another checkout's build may drop the template this process is using (older
// versions of this file drop every other template): a copy that finds its
// template gone builds it again. Builds here keep the few newest templates.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, migrationsFingerprint } from './migrate.ts';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Ends any connections still open to it and drops it; safe to call twice. */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TEMPLATE_PREFIX = 'whispr_tpl_';
const TEST_PREFIX = 'whispr_test_';
// Arbitrary, fixed: every test process must agree on it. Advisory locks are
// per database, and all processes take it on the same admin database.
const TEMPLATE_LOCK_KEY = 0x5768_6973_7072; // "Whispr"
// PostgreSQL truncates identifiers at 63 bytes; stay under it so the name we
// use is the name that exists.
const MAX_IDENTIFIER = 63;
const IN_USE_RETRIES = 100;
const IN_USE_DELAY_MS = 50;
/** Templates kept besides the current one (other checkouts' migrations), newest first by oid. */
const KEEP_OTHER_TEMPLATES = 4;
/** Times a copy rebuilds a template that another checkout dropped under it. */
const TEMPLATE_REBUILDS = 5;

/**
 * The server tests create their databases on: DATABASE_URL, as `npm test` checks
 * it (its database is only where to log in), else the local PostgreSQL.
 */
export function testAdminUrl(): string {
  const adminUrl = process.env['DATABASE_URL'] || DEFAULT_ADMIN_URL;
  if (!/^postgres(ql)?:\/\/./.test(adminUrl) || !URL.canParse(adminUrl)) {
    throw new TypeError('createTestDatabase: DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return adminUrl;
}

// One template check per process and admin server.
const templates = new Map<string, Promise<string>>();

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  if (typeof label !== 'string' || label.length === 0) {
    throw new TypeError('createTestDatabase: argument "label" must be a non-empty string');
  }
  const adminUrl = testAdminUrl();

  const name = testDatabaseName(label);
  for (let rebuilds = 0; ; rebuilds++) {
    const templateName = await currentTemplate(adminUrl);
    try {
      await withAdmin(adminUrl, async (admin) => {
        await retryWhileInUse(() =>
          admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(templateName)}`),
        );
      });
      break;
    } catch (err) {
      if (!isMissingDatabase(err) || rebuilds >= TEMPLATE_REBUILDS) throw err;
      // Dropped by another checkout's build: forget it, build it again.
      templates.delete(adminUrl);
    }
  }

  return {
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, async (admin) => {
        // FORCE terminates the sessions a test left open (pools not ended).
        await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

function currentTemplate(adminUrl: string): Promise<string> {
  let template = templates.get(adminUrl);
  if (template === undefined) {
    template = ensureTemplate(adminUrl);
    templates.set(adminUrl, template);
    // A failed build must not be cached: the next caller tries again.
    template.catch(() => templates.delete(adminUrl));
  }
  return template;
}

function testDatabaseName(label: string): string {
  const suffix = `_${process.pid}_${randomBytes(4).toString('hex')}`;
  const room = MAX_IDENTIFIER - TEST_PREFIX.length - suffix.length;
  const clean = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, room);
  return `${TEST_PREFIX}${clean || 'db'}${suffix}`;
}

async function ensureTemplate(adminUrl: string): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${(await migrationsFingerprint()).slice(0, 16)}`;
  const buildName = `${name}_build`;
  await withAdmin(adminUrl, async (admin) => {
    if (await databaseExists(admin, name)) return;
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      // Another process may have built it while we waited for the lock.
      if (await databaseExists(admin, name)) return;
      const build = admin.escapeIdentifier(buildName);
      await admin.query(`DROP DATABASE IF EXISTS ${build} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${build}`);
      await migrate({ databaseUrl: databaseUrl(adminUrl, buildName) });
      // The migration's connection may still be closing on the server side.
      await retryWhileInUse(() => admin.query(`ALTER DATABASE ${build} RENAME TO ${admin.escapeIdentifier(name)}`));
      // Nobody should connect to a template: a session on it makes every
      // CREATE DATABASE ... TEMPLATE fail until it ends.
      await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} WITH ALLOW_CONNECTIONS false`);
      await dropStaleTemplates(admin, name);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

/**
 * Drops templates built from other versions of the migrations, except the few
 * newest (by oid, which grows with each CREATE DATABASE): those are most likely
 * other checkouts' current ones.
 */
async function dropStaleTemplates(admin: pg.Client, current: string): Promise<void> {
  const stale = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2
      ORDER BY oid DESC OFFSET $3`,
    [TEMPLATE_PREFIX, current, KEEP_OTHER_TEMPLATES],
  );
  for (const { datname } of stale.rows) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)}`);
    } catch (err) {
      // Another checkout's tests may be copying it right now; it stays, and a
      // later build drops it.
      if (!isObjectInUse(err)) throw err;
    }
  }
}

async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const result = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return result.rowCount === 1;
}

async function retryWhileInUse(action: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await action();
      return;
    } catch (err) {
      if (!isObjectInUse(err) || attempt >= IN_USE_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, IN_USE_DELAY_MS));
    }
  }
}

/** SQLSTATE 3D000: "template database ... does not exist". */
function isMissingDatabase(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === '3D000';
}

/** SQLSTATE 55006: "source database ... is being accessed by other users" and kin. */
function isObjectInUse(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === '55006';
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'whispr-test-database' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
