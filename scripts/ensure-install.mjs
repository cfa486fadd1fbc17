#!/usr/bin/env node
/**
 * Runs before `npm start`, `npm test`, `npm run chat`, ... so that a fresh clone
 * needs no separate install step and no pnpm of its own: checks the Node
 * version, then installs the workspace's dependencies exactly as pnpm-lock.yaml
 * pins them when they are missing or older than the lockfile.
 *
 * pnpm itself: the one on PATH when it is the version package.json pins
 * (`packageManager`), else a copy of that version installed by npm into
 * <repo>/.data/tools (once; no root needed, nothing outside the checkout).
 * corepack is not used: its signature check fails on some machines, and
 * `npm install -g` needs rights a user may not have.
 *
 * Plain Node, no dependencies: nothing is installed yet when it runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_NODE_MAJOR = 20;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.data', 'tools');

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

/** The pnpm version package.json pins: `"packageManager": "pnpm@10.34.9"` (a `+sha...` suffix is allowed). */
function pinnedPnpmVersion() {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const match = /^pnpm@(\d+\.\d+\.\d+)(?:\+.*)?$/.exec(manifest.packageManager ?? '');
  if (!match) fail(`package.json's "packageManager" should pin pnpm as "pnpm@X.Y.Z", found ${JSON.stringify(manifest.packageManager)}`);
  return match[1];
}

/** How to run npm: the npm that runs this script (npm sets npm_execpath), else the one on PATH. */
function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /^npm-cli\.[cm]?js$/.test(basename(execPath))) return { command: process.execPath, prefix: [execPath] };
  return { command: 'npm', prefix: [] };
}

/** The pnpm to install with, as a command and its leading arguments; installs the pinned one when needed. */
function findPnpm(version) {
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (!onPath.error && onPath.status === 0 && onPath.stdout.trim() === version) return { command: 'pnpm', prefix: [] };

  // pnpm's package ships its CLI as one file that plain node runs; no shell shim needed.
  const packageDir = join(toolsDir, 'node_modules', 'pnpm');
  const cli = join(packageDir, 'bin', 'pnpm.cjs');
  const installedVersion = () => {
    try {
      return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
  };
  if (installedVersion() !== version || !existsSync(cli)) {
    const found = onPath.error ? 'no pnpm on PATH' : `pnpm on PATH is ${onPath.stdout.trim() || 'unusable'}`;
    console.error(`ensure-install: ${found}; installing pnpm ${version} into ${relative(root, toolsDir)} (once)`);
    const npm = npmCommand();
    const install = spawnSync(
      npm.command,
      [...npm.prefix, 'install', '--prefix', toolsDir, '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error', `pnpm@${version}`],
      // Its stdout goes to stderr: the standard output of `npm test` or `npm run token` is their result.
      { cwd: root, stdio: ['ignore', 2, 'inherit'] },
    );
    if (install.error) fail(`could not run npm to install pnpm: ${install.error.message}`);
    if (install.status !== 0) fail(`npm install pnpm@${version} into ${toolsDir} failed (status ${install.status})`);
    if (installedVersion() !== version || !existsSync(cli)) fail(`npm installed pnpm, but ${cli} is not pnpm ${version}`);
  }
  return { command: process.execPath, prefix: [cli] };
}

const pnpm = findPnpm(pinnedPnpmVersion());

// Frozen: install exactly what the lockfile says, and fail rather than rewrite
// it when package.json and the lockfile disagree (always so in CI).
console.error(`ensure-install: ${reason}; running pnpm install --frozen-lockfile${isCI ? ' (CI)' : ''}`);
// append-only keeps logs that are not a terminal free of cursor-moving redraws.
const reporter = isCI || !process.stderr.isTTY ? 'append-only' : 'default';
const installArgs = [
  'install',
  '--frozen-lockfile',
  `--reporter=${reporter}`,
  // A silent npm run (`npm --silent test`, as CI runs it) hands its log level to pnpm
  // through npm_config_loglevel, which would silence the install too.
  '--loglevel=info',
  // No update banner: the version is pinned on purpose, and its advice (a curl | sh installer) is not this project's.
  '--config.update-notifier=false',
];
const install = spawnSync(pnpm.command, [...pnpm.prefix, ...installArgs], {
  cwd: root,
  // stdout to stderr, as above.
  stdio: ['ignore', 2, 'inherit'],
});
if (install.error) fail(`could not run pnpm install: ${install.error.message}`);
if (install.status !== 0) {
  fail(
    `pnpm install --frozen-lockfile failed (status ${install.status}).` +
      (isCI
        ? ''
        : ' If you changed a package.json, run `pnpm install` to update pnpm-lock.yaml' +
          (pnpm.command === 'pnpm' ? '.' : ` (this pnpm is ${relative(root, join(toolsDir, 'node_modules', '.bin', 'pnpm'))}).`)),
  );
}
