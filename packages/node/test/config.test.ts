import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DEFAULT_LIMITS } from '@whispr/protocol';
import { mintDevToken, userIdFromName } from '@whispr/client';
import { findSigningSecret, installSecretPath } from '@whispr/client/install-secret';
import { createTokenVerifier } from '@whispr/gateway';
import { ConfigError, DEV_JWT_SECRET, isLoopbackHost, loadConfig, type LoadConfigOptions } from '../src/config.ts';

const SECRET = { WHISPR_JWT_SECRET: 'a-test-secret-of-reasonable-length' };

/** Asserts loadConfig(env) throws a ConfigError for `variable` whose message matches `message`. */
function rejects(t: Test, env: NodeJS.ProcessEnv, variable: string, message: RegExp, options?: LoadConfigOptions): void {
  t.throws(() => loadConfig(env, options), { name: 'ConfigError', variable, message }, `${variable} is rejected`);
}

t.test('defaults', async (t) => {
  const config = loadConfig({ ...SECRET });
  t.equal(config.port, 8080);
  t.equal(config.host, '127.0.0.1');
  t.equal(config.databaseUrl, undefined, 'DATABASE_URL unset stays undefined for resolveServices');
  t.equal(config.redisUrl, undefined, 'REDIS_URL unset stays undefined for resolveServices');
  t.equal(config.redisPrefix, 'whispr:');
  t.same(config.jwt, { secret: SECRET.WHISPR_JWT_SECRET, devSecret: false });
  t.equal(config.dev, false);
  t.equal(config.workers, availableParallelism());
  t.equal(config.shardWriters, 2);
  t.equal(config.nodeId, `${hostname()}:8080`);
  t.equal(config.logLevel, 'info');
  t.same(config.limits, DEFAULT_LIMITS);
  t.equal(config.socketBacklogBytes, 1024 * 1024);
});

t.test('every setting is read', async (t) => {
  const config = loadConfig({
    ...SECRET,
    PORT: '9001',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u:p@db:5432/whispr',
    REDIS_URL: 'redis://cache:6380/2',
    WHISPR_REDIS_PREFIX: 'test:1:',
    WHISPR_WORKERS: '3',
    WHISPR_SHARD_WRITERS: '4',
    WHISPR_NODE_ID: 'node-a',
    LOG_LEVEL: 'debug',
    WHISPR_MAX_FRAME_BYTES: '131072',
    WHISPR_MAX_CONTENT_BYTES: '1000',
    WHISPR_MAX_METADATA_BYTES: '500',
    WHISPR_HISTORY_MAX: '50',
    WHISPR_SEND_RATE_PER_S: '5',
    WHISPR_SEND_BURST: '10',
    WHISPR_OP_RATE_SCALE: '2',
    WHISPR_SOCKET_BACKLOG_BYTES: '262144',
  });
  t.equal(config.port, 9001);
  t.equal(config.host, '0.0.0.0');
  t.equal(config.databaseUrl, 'postgres://u:p@db:5432/whispr');
  t.equal(config.redisUrl, 'redis://cache:6380/2');
  t.equal(config.redisPrefix, 'test:1:');
  t.equal(config.workers, 3);
  t.equal(config.shardWriters, 4);
  t.equal(config.nodeId, 'node-a');
  t.equal(config.logLevel, 'debug');
  t.same(config.limits, {
    max_frame_bytes: 131072,
    max_content_bytes: 1000,
    max_metadata_bytes: 500,
    history_max: 50,
    send_rate_per_s: 5,
    send_burst: 10,
    op_rates: {
      write: { per_s: 40, burst: 200 },
      read: { per_s: 100, burst: 600 },
      typing: { per_s: 10, burst: 40 },
      receipt: { per_s: 100, burst: 400 },
    },
  });
  t.equal(config.socketBacklogBytes, 262144);
});

t.test('the node id defaults to hostname:port with the configured port', async (t) => {
  t.equal(loadConfig({ ...SECRET, PORT: '9100' }).nodeId, `${hostname()}:9100`);
});

t.test('blank values count as unset', async (t) => {
  const config = loadConfig({ ...SECRET, PORT: '', DATABASE_URL: '  ', WHISPR_WORKERS: '' });
  t.equal(config.port, 8080);
  t.equal(config.databaseUrl, undefined);
  t.equal(config.workers, availableParallelism());
});

t.test('an empty WHISPR_REDIS_PREFIX means no prefix', async (t) => {
  t.equal(loadConfig({ ...SECRET, WHISPR_REDIS_PREFIX: '' }).redisPrefix, '');
});

/** A data folder of the test's own, so no test makes the checkout's .data/jwt-secret. */
function dataDirFor(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'whispr-config-data-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a node bound to any other address than loopback refuses to start without a key', async (t) => {
  for (const HOST of ['0.0.0.0', '::', '192.168.1.5', 'example.org']) {
    rejects(t, { HOST }, 'WHISPR_JWT_SECRET', /no key.*WHISPR_JWT_SECRET.*WHISPR_JWT_PUBLIC_KEY.*loopback/);
    rejects(t, { HOST, WHISPR_DEV: '0' }, 'WHISPR_JWT_SECRET', new RegExp(`HOST is "${HOST.replace(/\./g, '\\.')}"`));
  }
  t.type(ConfigError, 'function');
});

t.test('loopback addresses', async (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) t.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.0.0', 'localhost.example.org', '']) t.notOk(isLoopbackHost(host), host);
});

t.test('no key on a loopback address: a random secret for this install, kept private and reused', async (t) => {
  const dataDir = dataDirFor(t);
  const first = loadConfig({}, { dataDir });
  const path = installSecretPath(dataDir);
  t.same(first.jwt.installSecret, { path, created: true }, 'made on the first start');
  t.equal(first.jwt.devSecret, false);
  const secret = first.jwt.secret ?? '';
  t.match(secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
  t.not(secret, DEV_JWT_SECRET, 'never the well-known secret');
  t.equal(readFileSync(path, 'utf8'), `${secret}\n`);
  t.equal(statSync(path).mode & 0o777, 0o600, 'readable by its owner only');

  for (const HOST of ['127.0.0.1', '::1', 'localhost']) {
    const again = loadConfig({ HOST }, { dataDir });
    t.equal(again.jwt.secret, secret, `reused on a later start (HOST=${HOST})`);
    t.same(again.jwt.installSecret, { path, created: false });
  }
  t.not(loadConfig({}, { dataDir: dataDirFor(t) }).jwt.secret, secret, 'another install gets another secret');

  // A configured key, or WHISPR_DEV=1, wins over the install's secret, as documented.
  t.same(loadConfig({ ...SECRET }, { dataDir }).jwt, { secret: SECRET.WHISPR_JWT_SECRET, devSecret: false });
  t.same(loadConfig({ WHISPR_DEV: '1' }, { dataDir }).jwt, { secret: DEV_JWT_SECRET, devSecret: true });

  chmodSync(path, 0o644);
  t.equal(loadConfig({}, { dataDir }).jwt.secret, secret);
  t.equal(statSync(path).mode & 0o777, 0o600, 'a secret others could read is made private again');
});

t.test('the tools sign with the key a node in the same environment verifies', async (t) => {
  const dataDir = dataDirFor(t);
  const alice = userIdFromName('alice');
  t.throws(() => findSigningSecret({}, dataDir), { message: /no secret to sign a token with.*npm start.*WHISPR_JWT_SECRET.*WHISPR_DEV/ }, 'nothing yet to sign with');
  const cases: Array<[string, NodeJS.ProcessEnv]> = [
    ["this install's secret", {}],
    ['WHISPR_JWT_SECRET', { ...SECRET }],
    ['WHISPR_DEV=1', { WHISPR_DEV: '1' }],
    ['WHISPR_JWT_SECRET over WHISPR_DEV=1', { ...SECRET, WHISPR_DEV: '1' }],
  ];
  for (const [label, env] of cases) {
    const verify = await createTokenVerifier(loadConfig(env, { dataDir }).jwt);
    const signing = findSigningSecret(env, dataDir);
    t.same(await verify(await mintDevToken({ userId: alice, secret: signing.secret })), { userId: alice, exp: null }, label);
  }
  t.equal(findSigningSecret({}, dataDir).source, installSecretPath(dataDir));
  t.equal(findSigningSecret({ WHISPR_DEV: '1' }, dataDir).secret, DEV_JWT_SECRET, 'dev-secret only under WHISPR_DEV=1');
});

t.test("an unusable install secret stops the node, naming the variable that avoids it", async (t) => {
  const dataDir = dataDirFor(t);
  writeFileSync(installSecretPath(dataDir), 'short\n', { mode: 0o600 });
  rejects(t, {}, 'WHISPR_JWT_SECRET', /no usable secret.*remove it/, { dataDir });
  t.throws(() => findSigningSecret({}, dataDir), { message: /no usable secret/ });
  const notADir = join(dataDir, 'file');
  writeFileSync(notADir, '');
  rejects(t, {}, 'WHISPR_JWT_SECRET', /not usable.*WHISPR_JWT_SECRET/, { dataDir: join(notADir, 'data') });
});

t.test('WHISPR_DEV=1 uses the dev secret and says so', async (t) => {
  const config = loadConfig({ WHISPR_DEV: '1' });
  t.equal(config.dev, true);
  t.same(config.jwt, { secret: DEV_JWT_SECRET, devSecret: true });
  t.equal(DEV_JWT_SECRET, 'dev-secret');
  const withSecret = loadConfig({ WHISPR_DEV: '1', ...SECRET });
  t.same(withSecret.jwt, { secret: SECRET.WHISPR_JWT_SECRET, devSecret: false }, 'a real secret wins over the dev one');
});

t.test('WHISPR_JWT_PUBLIC_KEY names a file that must exist', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whispr-config-'));
  const file = join(dir, 'key.pem');
  writeFileSync(file, '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n');
  t.same(loadConfig({ WHISPR_JWT_PUBLIC_KEY: file }).jwt, { publicKeyFile: file, devSecret: false });
  rejects(t, { WHISPR_JWT_PUBLIC_KEY: join(dir, 'missing.pem') }, 'WHISPR_JWT_PUBLIC_KEY', /readable PEM or JWKS file/);
  rejects(t, { WHISPR_JWT_PUBLIC_KEY: dir }, 'WHISPR_JWT_PUBLIC_KEY', /not a file/);
  rejects(t, { WHISPR_JWT_PUBLIC_KEY: file, ...SECRET }, 'WHISPR_JWT_SECRET', /not both/);
});

t.test('bad values name the variable and what was expected', async (t) => {
  rejects(t, { ...SECRET, PORT: 'eighty' }, 'PORT', /integer from 0 to 65535, got "eighty"/);
  rejects(t, { ...SECRET, PORT: '70000' }, 'PORT', /integer from 0 to 65535, got 70000/);
  rejects(t, { ...SECRET, PORT: '8e3' }, 'PORT', /integer/);
  rejects(t, { ...SECRET, WHISPR_WORKERS: '-1' }, 'WHISPR_WORKERS', /from 0/);
  rejects(t, { ...SECRET, WHISPR_WORKERS: '2.5' }, 'WHISPR_WORKERS', /integer/);
  rejects(t, { ...SECRET, WHISPR_SHARD_WRITERS: '0' }, 'WHISPR_SHARD_WRITERS', /from 1 to 64/);
  rejects(t, { ...SECRET, WHISPR_DEV: 'yes' }, 'WHISPR_DEV', /expected 1 or 0/);
  rejects(t, { ...SECRET, DATABASE_URL: 'not a url' }, 'DATABASE_URL', /expected a URL/);
  rejects(t, { ...SECRET, DATABASE_URL: 'mysql://db/whispr' }, 'DATABASE_URL', /postgres: or postgresql:/);
  rejects(t, { ...SECRET, REDIS_URL: 'http://cache:6379' }, 'REDIS_URL', /redis: or rediss:/);
  rejects(t, { ...SECRET, LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error, warn, info, debug, trace, silent/);
  rejects(t, { ...SECRET, WHISPR_NODE_ID: 'node a' }, 'WHISPR_NODE_ID', /without whitespace/);
  rejects(t, { ...SECRET, WHISPR_REDIS_PREFIX: 'a b' }, 'WHISPR_REDIS_PREFIX', /without whitespace/);
  rejects(t, { ...SECRET, WHISPR_MAX_FRAME_BYTES: '-1' }, 'WHISPR_MAX_FRAME_BYTES', /integer/);
  rejects(t, { ...SECRET, WHISPR_HISTORY_MAX: '0' }, 'WHISPR_HISTORY_MAX', /from 1/);
  rejects(t, { ...SECRET, WHISPR_SEND_RATE_PER_S: 'fast' }, 'WHISPR_SEND_RATE_PER_S', /integer/);
  rejects(t, { ...SECRET, WHISPR_SOCKET_BACKLOG_BYTES: '1k' }, 'WHISPR_SOCKET_BACKLOG_BYTES', /integer/);
});

t.test('limits must fit together', async (t) => {
  rejects(t, { ...SECRET, WHISPR_MAX_FRAME_BYTES: '4096', WHISPR_MAX_CONTENT_BYTES: '8192' }, 'WHISPR_MAX_CONTENT_BYTES', /at most WHISPR_MAX_FRAME_BYTES/);
  rejects(t, { ...SECRET, WHISPR_MAX_FRAME_BYTES: '4096', WHISPR_MAX_CONTENT_BYTES: '1024', WHISPR_MAX_METADATA_BYTES: '8192' }, 'WHISPR_MAX_METADATA_BYTES', /at most/);
  rejects(t, { ...SECRET, WHISPR_SEND_RATE_PER_S: '100', WHISPR_SEND_BURST: '10' }, 'WHISPR_SEND_BURST', /at least WHISPR_SEND_RATE_PER_S/);
  rejects(t, { ...SECRET, WHISPR_SOCKET_BACKLOG_BYTES: '1000' }, 'WHISPR_SOCKET_BACKLOG_BYTES', /from 262144/);
  rejects(
    t,
    { ...SECRET, WHISPR_MAX_FRAME_BYTES: '4096', WHISPR_MAX_CONTENT_BYTES: '1024', WHISPR_MAX_METADATA_BYTES: '1024', WHISPR_SOCKET_BACKLOG_BYTES: '8192' },
    'WHISPR_SOCKET_BACKLOG_BYTES',
    /from 65536/,
  );
  const big = loadConfig({ ...SECRET, WHISPR_MAX_FRAME_BYTES: String(4 * 1024 * 1024) });
  t.equal(big.socketBacklogBytes, 4 * 1024 * 1024, 'the default backlog grows to hold one whole frame');
});

t.test('WHISPR_DEV=1: dev tokens minted by the client verify with the key the config picks', async (t) => {
  const { jwt } = loadConfig({ WHISPR_DEV: '1' });
  const verify = await createTokenVerifier(jwt);
  const alice = userIdFromName('alice');
  // Fixed forever: a name's id must not change between versions, or users lose their conversations.
  t.equal(alice, 'b2fbdd64-8078-540e-88ce-d5bd3cd7b929');
  t.equal(userIdFromName('alice'), alice, 'stable');
  t.not(userIdFromName('bob'), alice);
  t.same(await verify(await mintDevToken({ userId: alice })), { userId: alice, exp: null });
  const expiring = await verify(await mintDevToken({ userId: alice, expiresInSeconds: 60 }));
  t.ok(expiring.exp !== null && Math.abs(expiring.exp - (Date.now() + 60_000)) < 5_000, 'exp about a minute ahead, in ms');
  const foreign = await mintDevToken({ userId: alice, secret: 'not-the-dev-secret' });
  t.throws(() => verify(foreign), { name: 'AuthError', reason: 'bad signature' });
  await t.rejects(mintDevToken({ userId: 'alice' }), { name: 'TypeError', message: /options.userId/ });
  await t.rejects(mintDevToken({ userId: alice, expiresInSeconds: 0 }), { name: 'TypeError', message: /options.expiresInSeconds/ });
  t.throws(() => userIdFromName(''), TypeError);
});
