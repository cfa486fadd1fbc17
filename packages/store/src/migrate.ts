// Applies the schema migrations in packages/store/migrations (plain SQL files
// run by node-pg-migrate). Every node calls this at start-up, possibly several
// at once: node-pg-migrate takes a database-wide advisory lock, and in "wait"
// mode the later callers block until the first has finished, then find nothing
// left to do. All pending files run in one transaction, so a failure leaves the
// database as it was.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { pino, type Logger } from 'pino';

export interface MigrateOptions {
  /** postgres:// or postgresql:// URL of the database to migrate. */
  databaseUrl: string;
  logger?: Logger;
}

/** Where the migration files live (absolute). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** The table node-pg-migrate records applied migrations in. */
export const MIGRATIONS_TABLE = 'whispr_migrations';

export async function migrate(options: MigrateOptions): Promise<void> {
  const { databaseUrl } = options;
  if (typeof databaseUrl !== 'string' || !/^postgres(ql)?:\/\/./.test(databaseUrl) || !URL.canParse(databaseUrl)) {
    throw new TypeError('migrate: option "databaseUrl" must be a postgres:// or postgresql:// URL');
  }
  const logger = (options.logger ?? pino({ name: 'whispr-store', level: 'warn' })).child({ component: 'migrate' });
  const applied = await runner({
    databaseUrl: {
      connectionString: databaseUrl,
      // Same session time zone as the service's pools, so NOW() in any
      // statement a migration runs means UTC.
      options: '-c timezone=UTC',
      application_name: 'whispr-migrate',
    },
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    schema: 'public',
    direction: 'up',
    singleTransaction: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    logger: {
      debug: (msg) => logger.debug(msg),
      info: (msg) => logger.debug(msg),
      warn: (msg) => logger.warn(msg),
      error: (msg) => logger.error(msg),
    },
  });
  if (applied.length > 0) {
    logger.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
  }
}

/**
 * sha256 over the migration files' names and contents: changes whenever the
 * schema would, so a test template database built from them can be reused
 * exactly as long as it is current.
 */
export async function migrationsFingerprint(): Promise<string> {
  const names = (await readdir(MIGRATIONS_DIR)).filter((name) => !name.startsWith('.')).sort();
  const hash = createHash('sha256');
  for (const name of names) {
    hash.update(name).update('\0').update(await readFile(join(MIGRATIONS_DIR, name))).update('\0');
  }
  return hash.digest('hex');
}
