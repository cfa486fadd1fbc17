/**
 * Finds (or starts) the PostgreSQL and Redis a node uses, so that `pnpm start`
 * works on a fresh machine (DESIGN.md "Embedded default and real services"):
 *
 * - PostgreSQL: DATABASE_URL when set; else a local server on 127.0.0.1:5432
 *   (database `whispr`, created if missing; user `postgres`, then the OS user);
 *   else the embedded PostgreSQL in <repo>/.data/postgres (as root, when the
 *   postgres OS user cannot enter the checkout, under /var/lib/whispr instead).
 * - Redis: REDIS_URL (default redis://127.0.0.1:6379) when it answers; else,
 *   for a URL on this machine, the machine's `redis-server` started on that
 *   port; else an error that says how to get one.
 *
 * stop() stops only what this call started, never a server it found running.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { DEFAULT_DATA_DIR, DEFAULT_REDIS_URL, type NodeConfig } from './config.ts';
import { findRedisServer, probeRedis, startLocalRedis } from './local-redis.ts';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  /** The embedded PostgreSQL's data folder, when that is the server in use (as root it may lie outside dataDir). */
  embeddedPostgresDataDir?: string;
  /** Stops the servers this call started (embedded PostgreSQL, local redis-server); the others are left alone. */
  stop(): Promise<void>;
}

export interface ResolveServicesOptions {
  /** Folder for the embedded servers' data; default <repo>/.data. */
  dataDir?: string;
  /** Where a local PostgreSQL is looked for; default 127.0.0.1:5432. */
  localPostgres?: { host: string; port: number };
  /** Port of the embedded PostgreSQL when it is free; default 54329 (next to 5432, unlikely to be taken). */
  embeddedPostgresPort?: number;
  /** Database the node uses on a local or embedded server; default `whispr`. */
  database?: string;
  /** Environment read for PATH (to find redis-server); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_EMBEDDED_POSTGRES_PORT = 54329;
export const DEFAULT_DATABASE = 'whispr';

/** The URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL (config validated it, so this is a caller's string): log nothing of it.
    return '<unparseable url>';
  }
}

function errorCode(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** PostgreSQL SQLSTATEs (and socket codes) that mean "try another way", not "something is broken". */
const NO_SERVER = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
const LOGIN_REFUSED = new Set(['28000', '28P01', '3D000']); // no such role / bad password / no such database

/** Creates `database` on the server `serverUrl` points at, unless it exists. */
async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      } catch (err) {
        // Two nodes starting together both see it missing; the loser's CREATE fails harmlessly.
        const code = errorCode(err);
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** Stops what was started before `failure`; if stopping fails too, both errors are thrown together. */
async function stopAfterFailure(stop: () => Promise<void>, failure: unknown): Promise<void> {
  try {
    await stop();
  } catch (stopError) {
    throw new AggregateError([failure, stopError], 'start-up failed, and stopping what it had started failed too');
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Logs in to a local PostgreSQL as `postgres`, then as the OS user, with no
 * password (or PGPASSWORD, which pg reads itself). Returns the server URL of the
 * first that works, 'none' when nothing listens, 'refused' when all logins fail.
 */
async function findLocalPostgres(host: string, port: number, logger: Logger): Promise<string | 'none' | 'refused'> {
  const users = [...new Set(['postgres', userInfo().username])];
  for (const user of users) {
    const url = `postgres://${encodeURIComponent(user)}@${host}:${port}/postgres`;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    // Connection errors also arrive as events; the awaited connect() reports them.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return url;
    } catch (err) {
      // Closing a client whose connect failed can reject too; there is nothing left to release.
      await client.end().catch(() => undefined);
      const code = errorCode(err);
      if (code !== undefined && NO_SERVER.has(code)) return 'none';
      if (err instanceof Error && /timeout/i.test(err.message)) return 'none';
      if (code !== undefined && LOGIN_REFUSED.has(code)) {
        logger.debug({ user, host, port, err }, 'local PostgreSQL refused this login');
        continue;
      }
      throw new Error(`the local PostgreSQL on ${host}:${port} failed unexpectedly`, { cause: err });
    }
  }
  return 'refused';
}

async function resolvePostgres(
  config: Pick<NodeConfig, 'databaseUrl'>,
  logger: Logger,
  options: Required<Omit<ResolveServicesOptions, 'env'>>,
): Promise<{ url: string; stop: () => Promise<void>; embeddedDataDir?: string }> {
  const nothingToStop = async (): Promise<void> => undefined;
  if (config.databaseUrl !== undefined) {
    logger.info({ databaseUrl: redactUrl(config.databaseUrl) }, 'PostgreSQL: using DATABASE_URL');
    return { url: config.databaseUrl, stop: nothingToStop };
  }

  const { host, port } = options.localPostgres;
  const local = await findLocalPostgres(host, port, logger);
  if (local !== 'none' && local !== 'refused') {
    await ensureDatabase(local, options.database);
    const url = withDatabase(local, options.database);
    logger.info({ databaseUrl: redactUrl(url) }, 'PostgreSQL: using the local server (no DATABASE_URL)');
    return { url, stop: nothingToStop };
  }
  if (local === 'refused') {
    logger.warn(
      { host, port },
      'a local PostgreSQL answers but refuses to log in as postgres or as this OS user without a password; ' +
        'starting the embedded one instead (set DATABASE_URL to use the local server)',
    );
  }

  // Loaded only now: the embedded PostgreSQL's modules are not needed by a node that has a server.
  const { startEmbeddedPostgres } = await import('./embedded-postgres.ts');
  const embedded = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, 'postgres'),
    preferredPort: options.embeddedPostgresPort,
    logger,
  });
  try {
    await ensureDatabase(embedded.serverUrl, options.database);
  } catch (err) {
    await stopAfterFailure(() => embedded.stop(), err);
    throw err;
  }
  const url = withDatabase(embedded.serverUrl, options.database);
  logger.info(
    { databaseUrl: redactUrl(url), dataDir: embedded.dataDir },
    'PostgreSQL: using the embedded server (no DATABASE_URL and no local server)',
  );
  return { url, stop: () => embedded.stop(), embeddedDataDir: embedded.dataDir };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

async function resolveRedis(
  config: Pick<NodeConfig, 'redisUrl'>,
  logger: Logger,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const url = config.redisUrl ?? DEFAULT_REDIS_URL;
  const source = config.redisUrl === undefined ? 'the default' : 'REDIS_URL';
  const probe = await probeRedis(url);
  if (probe.state === 'ok') {
    logger.info({ redisUrl: redactUrl(url) }, `Redis: using ${source}`);
    return { url, stop: async () => undefined };
  }
  if (probe.state === 'refused') {
    throw new Error(`Redis at ${redactUrl(url)} answered but refused the connection: ${probe.error.message}`, { cause: probe.error });
  }

  const parsed = new URL(url);
  if (!LOOPBACK_HOSTS.has(parsed.hostname) || parsed.protocol !== 'redis:') {
    throw new Error(
      `Redis does not answer at ${redactUrl(url)} (${probe.error.message}); ` +
        'a local redis-server is started only for redis://127.0.0.1, localhost or [::1]',
      { cause: probe.error },
    );
  }
  const binary = findRedisServer(env);
  if (binary === null) {
    throw new Error(
      `Redis does not answer at ${redactUrl(url)} and redis-server is not installed. ` +
        'Install it (Debian/Ubuntu: `sudo apt-get install redis-server`), or set REDIS_URL to a running Redis.',
      { cause: probe.error },
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new Error(
      `Redis does not answer at ${redactUrl(url)}; a local redis-server is started only for a URL without credentials`,
      { cause: probe.error },
    );
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  logger.info({ redisUrl: redactUrl(url), binary }, 'Redis: nothing answers; starting a local redis-server');
  const local = await startLocalRedis({ binary, port, dataDir: join(dataDir, 'redis'), logger });
  return { url, stop: () => local.stop() };
}

export async function resolveServices(
  config: Pick<NodeConfig, 'databaseUrl' | 'redisUrl'>,
  logger: Logger,
  options: ResolveServicesOptions = {},
): Promise<Services> {
  const resolved = {
    dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
    localPostgres: options.localPostgres ?? { host: '127.0.0.1', port: 5432 },
    embeddedPostgresPort: options.embeddedPostgresPort ?? DEFAULT_EMBEDDED_POSTGRES_PORT,
    database: options.database ?? DEFAULT_DATABASE,
  };
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(resolved.database)) {
    throw new TypeError(`resolveServices: options.database must be a plain identifier, got ${JSON.stringify(resolved.database)}`);
  }

  const postgres = await resolvePostgres(config, logger, resolved);
  let redis: { url: string; stop: () => Promise<void> };
  try {
    redis = await resolveRedis(config, logger, resolved.dataDir, options.env ?? process.env);
  } catch (err) {
    // Leave nothing running that this call started.
    await stopAfterFailure(postgres.stop, err);
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    databaseUrl: postgres.url,
    redisUrl: redis.url,
    ...(postgres.embeddedDataDir !== undefined ? { embeddedPostgresDataDir: postgres.embeddedDataDir } : {}),
    stop(): Promise<void> {
      stopping ??= (async () => {
        const results = await Promise.allSettled([redis.stop(), postgres.stop()]);
        const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        if (errors.length > 0) throw new AggregateError(errors, 'stopping the local services failed');
      })();
      return stopping;
    },
  };
}
