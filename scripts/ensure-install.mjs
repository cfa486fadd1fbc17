#!/usr/bin/env node
/**
 * Runs before `pnpm start`, `pnpm test`, `pnpm chat`, ... so that a fresh clone
 * needs no separate install step: checks the Node version, then installs the
 * workspace's dependencies exactly as pnpm-lock.yaml pins them when they are
 * missing or older than the lockfile. Plain Node, no dependencies: nothing is
 * installed yet when it runs.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_NODE_MAJOR = 20;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`ensure-install: ${message}`);
  process.exit(1);
}

const major = Number(process.versions.node.split('.')[0]);
if (major !== REQUIRED_NODE_MAJOR) {
  // uWebSockets.js ships native builds for Node 20's ABI here, and the engines
  // field pins 20.x: a different major fails later with a far less clear error.
  fail(`Whispr needs Node.js ${REQUIRED_NODE_MAJOR}.x; this is ${process.version} (${process.execPath}).`);
}

/** mtime in ms, or null when the path does not exist. */
function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

const lockfile = join(root, 'pnpm-lock.yaml');
// pnpm rewrites node_modules/.modules.yaml at the end of every install, so its
// mtime says when the tree was last installed (the folder's own mtime does not).
const installedAt = mtimeOf(join(root, 'node_modules', '.modules.yaml'));
const lockedAt = mtimeOf(lockfile);
if (lockedAt === null) fail(`${lockfile} is missing; it pins every dependency, restore it from git.`);

const isCI = Boolean(process.env.CI) && process.env.CI !== 'false';
let reason = null;
if (installedAt === null) reason = 'node_modules is missing';
else if (installedAt < lockedAt) reason = 'pnpm-lock.yaml is newer than node_modules';

if (reason === null) process.exit(0);

const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  fail('pnpm is not installed. Install it with `npm install -g pnpm@10`, then run the command again.');
}

// Frozen: install exactly what the lockfile says, and fail rather than rewrite
// it when package.json and the lockfile disagree (always so in CI).
console.error(`ensure-install: ${reason}; running pnpm install --frozen-lockfile${isCI ? ' (CI)' : ''}`);
// An explicit reporter, because `pnpm --silent test` (as CI runs it) would
// otherwise silence the install too; append-only keeps CI logs free of redraws.
const reporter = isCI ? 'append-only' : 'default';
const install = spawnSync('pnpm', ['install', '--frozen-lockfile', `--reporter=${reporter}`], {
  cwd: root,
  stdio: 'inherit',
});
if (install.error) fail(`could not run pnpm install: ${install.error.message}`);
if (install.status !== 0) {
  fail(
    `pnpm install --frozen-lockfile failed (status ${install.status}).` +
      (isCI ? '' : ' If you changed a package.json, run `pnpm install` to update pnpm-lock.yaml.'),
  );
}
