/**
 * `pnpm cluster` / `npm run cluster`: N local nodes as one cluster (DESIGN.md
 * "The cluster": the launcher for N local nodes), or `status` (status-cli.ts).
 *
 * The order: find or start PostgreSQL and Redis once (a helper process,
 * packages/node/src/services-main.ts, that also checks the configuration and
 * makes this install's secret before the nodes race for it), check the ports,
 * start every node with the same DATABASE_URL, REDIS_URL and WHISPR_REDIS_PREFIX
 * and its own PORT and WHISPR_NODE_ID, wait until every /readyz is 200, print
 * how to reach them. Stopping reverses it: every node gets SIGTERM (a planned
 * leave: out of the ring, answer what it holds, close its sockets with 1001),
 * then SIGKILL after --stop-timeout, and only then the services stop.
 *
 * The children run in process groups of their own, so a Ctrl-C reaches only this
 * process, which stops them in that order (a Ctrl-C reaching a local
 * redis-server at once would cut the nodes off while they drain). A second
 * Ctrl-C kills whatever is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { parseCommand, UsageError, USAGE, type LaunchArgs } from './launch-args.ts';
import { describeExit, NodeProcess, REPO_ROOT } from './node-process.ts';
import { runStatus } from './status-cli.ts';

interface Services {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  key: { kind: 'install'; path: string } | { kind: 'dev' } | { kind: 'secret' } | { kind: 'public-key' };
}

/** What a node (and `status`) uses with no DATABASE_URL / REDIS_URL when a local server answers. */
const DEFAULT_LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/whispr';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const COLORS = [36, 33, 35, 32, 34, 31];
const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

/** Writes a child's line with its name in front, padded so the lines align. */
function prefixer(name: string, width: number, index: number): (line: string, stream: 'stdout' | 'stderr') => void {
  const label = name.padEnd(width);
  const tag = color ? `\x1b[${COLORS[index % COLORS.length] ?? 36}m${label}\x1b[0m | ` : `${label} | `;
  return (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${tag}${line}\n`);
}

const say = (text: string): boolean => process.stderr.write(`${text}\n`);

/** Is `port` free on `host`? A node that cannot listen would only fail after the others joined. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Starts the services helper and reads its one line; it keeps running until stopped. */
async function startServices(width: number): Promise<{ child: ChildProcess; services: Services }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/node/src/services-main.ts'], {
    cwd: REPO_ROOT, env: process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
  const log = prefixer('services', width, COLORS.length - 1);
  if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => log(line, 'stderr'));
  const lines = child.stdout ? createInterface({ input: child.stdout, crlfDelay: Infinity }) : null;
  const services = await new Promise<Services>((resolve, reject) => {
    // The answer is the line of JSON; anything else a library printed is passed on as a log line.
    lines?.on('line', (line) => {
      const answer = parseServices(line);
      if (answer) resolve(answer);
      else log(line, 'stdout');
    });
    child.once('exit', (code, signal) => reject(new ExitError(code === 2 ? 2 : 1, `finding PostgreSQL and Redis failed (${describeExit({ code, signal })}); see the lines above`)));
  });
  return { child, services };
}

function parseServices(line: string): Services | null {
  try {
    const value = JSON.parse(line) as Partial<Services> | null;
    return value && typeof value.databaseUrl === 'string' && typeof value.redisUrl === 'string' && typeof value.redisPrefix === 'string' && value.key ? (value as Services) : null;
  } catch {
    return null;
  }
}

class ExitError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function summary(args: LaunchArgs, nodes: NodeProcess[], s: Services): string {
  const env = s.key.kind === 'dev' ? 'WHISPR_DEV=1 ' : '';
  const lines = [
    '',
    `whispr: ${nodes.length} node${nodes.length === 1 ? '' : 's'} running as one cluster (Redis prefix ${JSON.stringify(s.redisPrefix)}):`,
    ...nodes.map((n) => `  ${n.nodeId.padEnd(8)} ${n.wsUrl.padEnd(26)} pid ${n.pid ?? '?'}`),
    `  PostgreSQL ${redact(s.databaseUrl)}, Redis ${redact(s.redisUrl)}`,
  ];
  if (s.key.kind === 'public-key') lines.push('', 'Tokens are verified with WHISPR_JWT_PUBLIC_KEY: clients need tokens from its issuer.');
  else {
    const where = s.key.kind === 'install' ? `this install's secret (${s.key.path})` : s.key.kind === 'dev' ? "the well-known 'dev-secret'" : 'WHISPR_JWT_SECRET (run the chat with it set, as here)';
    lines.push('', `Tokens are verified with ${where}. Chat against any node, in another terminal in ${REPO_ROOT}:`);
    nodes.slice(0, 3).forEach((n, i) => {
      const url = n.wsUrl === 'ws://127.0.0.1:8080/ws' ? '' : ` --url ${n.wsUrl}`;
      lines.push(`  ${env}npm run chat -- --as ${['alice', 'bob', 'carol'][i] ?? 'alice'}${url}`);
    });
  }
  // What this environment does not say but the nodes were given (found by the services helper).
  const shared = [
    ...(process.env.DATABASE_URL || s.databaseUrl === DEFAULT_LOCAL_DATABASE_URL ? [] : [`DATABASE_URL='${s.databaseUrl}'`]),
    ...(process.env.REDIS_URL || s.redisUrl === DEFAULT_REDIS_URL ? [] : [`REDIS_URL='${s.redisUrl}'`]),
  ].join(' ');
  const envPrefix = shared ? `${shared} ` : '';
  const next = args.port + nodes.length;
  lines.push(
    '',
    `Status:     ${envPrefix}npm run cluster -- status [--conversation <id>]`,
    `Add a node: ${envPrefix}PORT=${next} WHISPR_NODE_ID=node-${nodes.length + 1} npm start   (same environment otherwise)`,
    `Remove one: kill <pid> (SIGTERM: a planned leave). Ctrl-C stops them all.`,
    '',
  );
  return lines.join('\n');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<url>';
  }
}

async function launch(args: LaunchArgs): Promise<number> {
  const host = process.env.HOST?.trim() || '127.0.0.1';
  const ids = Array.from({ length: args.nodes }, (_, i) => `node-${i + 1}`);
  const width = Math.max(8, ...ids.map((id) => id.length));
  for (let i = 0; i < args.nodes; i++) {
    if (!(await portFree(host, args.port + i))) throw new ExitError(2, `port ${args.port + i} on ${host} is in use (another node or cluster?): choose another --port`);
  }

  const { child: servicesChild, services } = await startServices(width);
  const workers = args.workers ?? (process.env.WHISPR_WORKERS?.trim() ? Number(process.env.WHISPR_WORKERS) : 1);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    WHISPR_REDIS_PREFIX: services.redisPrefix,
    WHISPR_WORKERS: String(workers),
  };
  const nodes = ids.map((nodeId, i) => new NodeProcess({ nodeId, host, port: args.port + i, env, onLine: prefixer(nodeId, width, i), detached: true }));

  let stopping: Promise<number> | null = null;
  const stopAll = (code: number): Promise<number> => {
    stopping ??= (async () => {
      say(`whispr: stopping ${nodes.filter((n) => n.running).length} node(s) (SIGTERM, SIGKILL after ${args.stopTimeoutMs / 1000} s)`);
      const outcomes = await Promise.all(nodes.map((n) => n.stop(args.stopTimeoutMs)));
      const killed = nodes.filter((_, i) => outcomes[i] === 'killed').map((n) => n.nodeId);
      if (killed.length > 0) say(`whispr: killed ${killed.join(', ')} (not stopped within ${args.stopTimeoutMs / 1000} s)`);
      await stopChild(servicesChild, args.stopTimeoutMs);
      say('whispr: all stopped');
      return code;
    })();
    return stopping;
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      say(`whispr: ${signal}: stopping the cluster (Ctrl-C again to kill it at once)`);
      void stopAll(0).then((code) => process.exit(code));
      return;
    }
    // npm and pnpm pass the terminal's Ctrl-C on to the script, which also gets it
    // from the terminal: two signals within a moment are one Ctrl-C.
    if (Date.now() - firstSignalAt < 1000) return;
    say('whispr: killing every node now');
    for (const n of nodes) n.signal('SIGKILL');
    servicesChild.kill('SIGKILL');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => onSignal(signal));

  // A node that exits on its own: at start-up the cluster is abandoned; later the others go on.
  let started = false;
  for (const n of nodes) {
    void n.exited.then((exit) => {
      if (stopping) return;
      if (!started) return; // waitReady reports it
      const left = nodes.filter((m) => m.running).length;
      say(`whispr: ${n.nodeId} exited (${describeExit(exit)}); ${left} node(s) go on${left > 0 ? ', and its conversations move to them after the grace' : ''}`);
      if (left === 0) void stopAll(1).then((code) => process.exit(code));
    });
  }
  servicesChild.once('exit', (code, signal) => {
    if (!stopping) say(`whispr: the services helper exited (${describeExit({ code, signal })}): a PostgreSQL or Redis it started is gone`);
  });

  try {
    await Promise.all(nodes.map((n) => n.waitReady(args.readyTimeoutMs)));
  } catch (err) {
    say(`whispr: ${err instanceof Error ? err.message : String(err)}; stopping the others`);
    return stopAll(1);
  }
  // Ready means "owns its own slots"; a node may not have read the others yet. Until
  // every node sees all of them, their rings differ and some requests bounce.
  const converged = await waitConverged(nodes, 15_000);
  if (!converged) say(`whispr: not every node sees all ${nodes.length} nodes yet (their rings converge at their next polls)`);
  started = true;
  say(summary(args, nodes, services));
  return new Promise<number>(() => undefined); // runs until a signal
}

async function waitConverged(nodes: NodeProcess[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = await Promise.all(nodes.map((n) => n.nodesSeen()));
    if (seen.every((count) => count === nodes.length)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  const command = parseCommand(process.argv.slice(2));
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.kind === 'status') return runStatus(command.args, process.env);
  return launch(command.args);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`whispr cluster: ${err.message} (npm run cluster -- --help lists the options)\n`);
      process.exit(2);
    }
    if (err instanceof ExitError) {
      process.stderr.write(`whispr cluster: ${err.message}\n`);
      process.exit(err.code);
    }
    process.stderr.write(`whispr cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

