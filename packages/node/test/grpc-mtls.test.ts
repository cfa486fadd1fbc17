// With WHISPR_GRPC_TLS_* the API is mutual TLS: a client with a certificate
// from the configured CA (and the token) is served; without a certificate, with
// one from another CA, or in plaintext, it is refused at the handshake.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { GrpcStatus as status } from '@whispr/grpc';
import { startTestNode } from './helpers/test-node.ts';
import { grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA and, signed by it, a certificate for `name` (with the SAN given). */
function issue(dir: string, ca: string, name: string, san: string): void {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
}

t.test('mutual TLS: the CA’s client is served, others are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whispr-mtls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  issue(dir, 'ca', 'server', 'DNS:localhost,IP:127.0.0.1');
  issue(dir, 'ca', 'client', 'DNS:client');
  issue(dir, 'other-ca', 'stranger', 'DNS:stranger');
  const f = (name: string): string => join(dir, name);
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig({ tls: { certFile: f('server.crt'), keyFile: f('server.key'), caFile: f('ca.crt') } }) });
  const call = (client: ReturnType<typeof grpcClient>): Promise<unknown> => client.syncBlocks({ user_id: randomUUID(), blocked_ids: [] });

  const good = grpcClient(t, n.node, { tls: { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') }, timeoutMs: 5000 });
  t.equal((await statusOf(call(good))).code, status.OK, 'a client certificate from the CA, with the token: served');
  const noToken = grpcClient(t, n.node, { token: undefined, tls: { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') }, timeoutMs: 5000 });
  t.equal((await statusOf(call(noToken))).code, status.UNAUTHENTICATED, 'the token is still required');
  const stranger = grpcClient(t, n.node, { tls: { caFile: f('ca.crt'), certFile: f('stranger.crt'), keyFile: f('stranger.key') }, timeoutMs: 5000 });
  t.equal((await statusOf(call(stranger))).code, status.UNAVAILABLE, 'a certificate from another CA: refused at the handshake');
  const anonymous = grpcClient(t, n.node, { tls: { caFile: f('ca.crt') }, timeoutMs: 5000 });
  t.equal((await statusOf(call(anonymous))).code, status.UNAVAILABLE, 'TLS without a client certificate: refused');
  const plaintext = grpcClient(t, n.node, { timeoutMs: 5000 });
  t.equal((await statusOf(call(plaintext))).code, status.UNAVAILABLE, 'plaintext: refused');
});
