// WHISPR_GRPC_*: off when the port is unset; a port needs the token, on any
// address; TLS is all three files or none, and they must exist.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../src/config.ts';

const BASE = { WHISPR_JWT_SECRET: 'a-test-secret-of-reasonable-length' };
const TOKEN = 'a-grpc-token-of-some-length';

t.test('off unless WHISPR_GRPC_PORT is set', async (t) => {
  t.equal(loadConfig({ ...BASE, WHISPR_GRPC_TOKEN: TOKEN }).grpc, undefined, 'a token alone serves nothing');
  t.same(loadConfig({ ...BASE, WHISPR_GRPC_PORT: '50051', WHISPR_GRPC_TOKEN: TOKEN }).grpc, { host: '127.0.0.1', port: 50051, token: TOKEN }, 'on HOST by default');
  t.equal(loadConfig({ ...BASE, HOST: '0.0.0.0', WHISPR_GRPC_PORT: '1', WHISPR_GRPC_HOST: '10.0.0.5', WHISPR_GRPC_TOKEN: TOKEN }).grpc?.host, '10.0.0.5', 'its own host');
});

t.test('the token is required, and long enough', async (t) => {
  t.throws(() => loadConfig({ ...BASE, WHISPR_GRPC_PORT: '50051' }), { name: 'ConfigError', variable: 'WHISPR_GRPC_TOKEN' }, 'on loopback');
  t.throws(() => loadConfig({ ...BASE, HOST: '0.0.0.0', WHISPR_GRPC_PORT: '50051' }), { name: 'ConfigError', variable: 'WHISPR_GRPC_TOKEN', message: /0\.0\.0\.0/ }, 'beyond loopback');
  t.throws(() => loadConfig({ ...BASE, WHISPR_GRPC_PORT: '50051', WHISPR_GRPC_TOKEN: 'short' }), { name: 'ConfigError', variable: 'WHISPR_GRPC_TOKEN', message: /at least 16/ }, 'too short');
  t.throws(() => loadConfig({ ...BASE, WHISPR_GRPC_PORT: 'x', WHISPR_GRPC_TOKEN: TOKEN }), { name: 'ConfigError', variable: 'WHISPR_GRPC_PORT' }, 'a bad port');
});

t.test('TLS: all three files, readable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whispr-grpc-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, name), 'pem');
  const files = { WHISPR_GRPC_TLS_CERT: join(dir, 'cert.pem'), WHISPR_GRPC_TLS_KEY: join(dir, 'key.pem'), WHISPR_GRPC_TLS_CA: join(dir, 'ca.pem') };
  const env = { ...BASE, WHISPR_GRPC_PORT: '50051', WHISPR_GRPC_TOKEN: TOKEN };
  t.same(loadConfig({ ...env, ...files }).grpc?.tls, { certFile: files.WHISPR_GRPC_TLS_CERT, keyFile: files.WHISPR_GRPC_TLS_KEY, caFile: files.WHISPR_GRPC_TLS_CA }, 'all three');
  t.throws(() => loadConfig({ ...env, WHISPR_GRPC_TLS_CERT: files.WHISPR_GRPC_TLS_CERT, WHISPR_GRPC_TLS_KEY: files.WHISPR_GRPC_TLS_KEY }), { name: 'ConfigError', variable: 'WHISPR_GRPC_TLS_CA' }, 'the CA missing');
  t.throws(() => loadConfig({ ...env, ...files, WHISPR_GRPC_TLS_KEY: join(dir, 'nope.pem') }), { name: 'ConfigError', variable: 'WHISPR_GRPC_TLS_KEY' }, 'a file that is not there');
});
