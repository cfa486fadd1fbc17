#!/usr/bin/env node
/**
 * `npm test`: runs every test file with tap and, alongside, the type-check
 * (`tsc -b`), then prints `N passed, N failed` (test files, plus one for the
 * type-check) as the very last line and exits non-zero on any failure. Extra
 * arguments go to tap, so `npm test -- packages/protocol/test/codec.test.ts`
 * runs one file and `npm test -- --grep=send` filters by test name; a run with
 * extra arguments is a partial run and skips the type-check.
 *
 * The tests find PostgreSQL at DATABASE_URL (the server they create their
 * databases on) and Redis at REDIS_URL, both defaulting to 127.0.0.1.
 *
 * Environment:
 *   WHISPR_TEST_VERBOSE=1   print the whole TAP stream, passing assertions included
 *   WHISPR_TEST_COVERAGE=1  collect coverage and print a summary (never fails the run)
 *   WHISPR_TEST_SKIP_SERVICE_CHECK=1  run even if PostgreSQL or Redis does not answer
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const INCLUDE = [
  'packages/*/test/**/*.test.ts',
  'cluster/test/**/*.test.ts',
  'bench/test/**/*.test.ts',
];
// Test files start real servers, PostgreSQL pools and Redis clients, so they are
// I/O-bound more than CPU-bound; one job per core keeps a 2-core machine busy
// without starving the PostgreSQL and Redis servers the tests talk to.
const JOBS = Math.max(1, availableParallelism());
// A hang guard, not a speed check: the bench's smoke run of every scenario took
// up to 117 s on a heavily loaded 2-core machine, so leave room.
const TIMEOUT_S = 300;

/** Where the tests expect PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set, else the local defaults. */
function serviceTarget(envVar, fallbackPort) {
  const raw = process.env[envVar];
  if (!raw) return { host: '127.0.0.1', port: fallbackPort, from: 'default' };
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${envVar} is not a URL: ${raw}`);
  }
  return { host: url.hostname || '127.0.0.1', port: Number(url.port) || fallbackPort, from: envVar };
}

/**
 * Opens a TCP connection, writes `probe` and resolves with the first bytes back,
 * so "answers" means the server speaks, not only that a port is open.
 */
function probe(host, port, payload, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(payload));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// PostgreSQL answers an SSLRequest with a single 'S' or 'N' byte.
const PG_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

async function checkServices() {
  const pg = serviceTarget('DATABASE_URL', 5432);
  const redis = serviceTarget('REDIS_URL', 6379);
  const problems = [];
  try {
    const reply = await probe(pg.host, pg.port, PG_SSL_REQUEST);
    const byte = String.fromCharCode(reply[0] ?? 0);
    if (byte !== 'S' && byte !== 'N') problems.push(`PostgreSQL: ${pg.host}:${pg.port} answered, but not like PostgreSQL`);
  } catch (err) {
    problems.push(`PostgreSQL does not answer on ${pg.host}:${pg.port} (${err.message})`);
  }
  try {
    const reply = (await probe(redis.host, redis.port, 'PING\r\n')).toString('latin1');
    // -NOAUTH still proves a Redis is there; the tests' own URL carries the password.
    if (!reply.startsWith('+PONG') && !reply.startsWith('-NOAUTH')) {
      problems.push(`Redis: ${redis.host}:${redis.port} answered ${JSON.stringify(reply.trim())}, not PONG`);
    }
  } catch (err) {
    problems.push(`Redis does not answer on ${redis.host}:${redis.port} (${err.message})`);
  }
  return problems;
}

/** Runs `tsc -b`, the type-check CI also gates on; resolves with whether it passed, its output and duration. */
function typecheck() {
  const started = Date.now();
  return new Promise((resolve) => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const child = spawn(tsc, ['-b'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err) => resolve({ ok: false, output: `could not run ${tsc}: ${err.message}`, ms: Date.now() - started }));
    child.once('close', (code, signal) =>
      resolve({ ok: code === 0, output: signal ? `${output}tsc was killed by ${signal}\n` : output, ms: Date.now() - started }),
    );
  });
}

const TOP_RESULT = /^(not )?ok \d+ - (.+?)(?: # (.*))?$/;
const YAML_START = /^ {2}---$/;
const YAML_END = /^ {2}\.\.\.$/;

/**
 * Reads tap's raw TAP stream. Top-level `ok`/`not ok` lines are test files. A
 * file's nested output is held back and shown only when the file failed, so a
 * green run prints one line per file and a red one shows every failing assertion.
 */
function reportStream(input, verbose) {
  const counts = { passed: 0, failed: 0, skipped: 0, bailedOut: false };
  let held = [];
  let lastFailed = false;
  let inYaml = false;
  let showYaml = false;
  const out = (line) => process.stdout.write(`${line}\n`);
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (verbose) out(line);
    if (inYaml) {
      if (showYaml && !verbose) out(line);
      if (YAML_END.test(line)) inYaml = false;
      return;
    }
    if (YAML_START.test(line)) {
      inYaml = true;
      showYaml = lastFailed;
      if (showYaml && !verbose) out(line);
      return;
    }
    const result = TOP_RESULT.exec(line);
    if (result) {
      const directive = result[3] ?? '';
      const failed = result[1] !== undefined && !/^TODO\b/i.test(directive);
      if (/^SKIP\b/i.test(directive)) counts.skipped++;
      else if (failed) counts.failed++;
      else counts.passed++;
      if (failed && !verbose) for (const h of held) out(h);
      if (!verbose) out(line);
      held = [];
      lastFailed = failed;
      return;
    }
    if (line.startsWith('Bail out!')) counts.bailedOut = true;
    // Nested lines (indented) and the `# Subtest:` header belong to the file being reported.
    if (line.startsWith(' ') || line.startsWith('# Subtest:') || line === '') {
      held.push(line);
      return;
    }
    if (!verbose) out(line);
  });
  return new Promise((resolve) => lines.once('close', () => resolve(counts)));
}

async function main() {
  const extraArgs = process.argv.slice(2);
  // The count below is read from the plain TAP stream; another reporter would leave nothing to count.
  if (extraArgs.some((arg) => /^(-R|--reporter(=|$))/.test(arg))) {
    console.error('test: this script sets the reporter itself; use WHISPR_TEST_VERBOSE=1 for the whole TAP stream');
    console.log('0 passed, 0 failed');
    process.exit(2);
  }

  if (process.env.WHISPR_TEST_SKIP_SERVICE_CHECK !== '1') {
    const problems = await checkServices();
    if (problems.length > 0) {
      for (const p of problems) console.error(`test: ${p}`);
      console.error(
        'test: the tests run against real PostgreSQL and Redis. Start them, e.g.\n' +
          '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n' +
          '  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no\n' +
          '(or set DATABASE_URL / REDIS_URL; WHISPR_TEST_SKIP_SERVICE_CHECK=1 skips this check).',
      );
      console.log('0 passed, 0 failed');
      process.exit(1);
    }
  }

  // Started first and run alongside tap: it is mostly one core's work for a few seconds.
  const typecheckRun = extraArgs.length === 0 ? typecheck() : null;

  const coverage = process.env.WHISPR_TEST_COVERAGE === '1';
  const tapArgs = [
    // Plain TAP, which this script reads to count and print results.
    '--reporter=tap',
    `--jobs=${JOBS}`,
    `--timeout=${TIMEOUT_S}`,
    // Test files are TypeScript, run by tap's plugin with the project's compiler settings.
    '--tsconfig=scripts/tsconfig.test.json',
    ...INCLUDE.map((glob) => `--include=${glob}`),
    // tap fails a run under 100% coverage by default; coverage is a report here, never a gate.
    ...(coverage ? ['--allow-incomplete-coverage', '--coverage-report=text-summary'] : ['--disable-coverage']),
    ...extraArgs,
  ];

  const tapBin = join(root, 'node_modules', '.bin', 'tap');
  const child = spawn(tapBin, tapArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  const exit = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const counts = await Promise.race([reportStream(child.stdout, process.env.WHISPR_TEST_VERBOSE === '1'), spawnError]);
  const { code, signal } = await exit;

  let status = code ?? 1;
  if (signal) console.error(`test: tap was killed by ${signal}`);
  if (counts.bailedOut) status = status || 1;
  if (counts.failed > 0) status = status || 1;
  if (counts.passed + counts.failed === 0) {
    console.error('test: no test file ran');
    status = status || 1;
  } else if (status !== 0 && counts.failed === 0) {
    console.error(`test: tap exited with status ${status} although no test file failed (see its output above)`);
  }

  // The type-check counts as one more line: a type error fails the run as a failing file does.
  let typecheckPassed = 0;
  let typecheckFailed = 0;
  if (typecheckRun !== null) {
    const result = await typecheckRun;
    if (result.ok) {
      typecheckPassed = 1;
      console.log(`ok - tsc -b (type-check) # time=${result.ms}ms`);
    } else {
      typecheckFailed = 1;
      console.log(`not ok - tsc -b (type-check) # time=${result.ms}ms`);
      for (const line of result.output.trimEnd().split('\n')) console.log(`  ${line}`);
      status = status || 1;
    }
  }
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  console.log(`${counts.passed + typecheckPassed} passed, ${counts.failed + typecheckFailed} failed${skipped}`);
  process.exit(status);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 0 failed');
  process.exit(1);
});
