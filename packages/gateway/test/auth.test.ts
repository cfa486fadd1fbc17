import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { AuthError, createTokenVerifier, type AuthFailure, type TokenVerifier } from '../src/auth.ts';

const USER = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';
const SECRET = 'a-test-secret-that-is-long-enough!';
const dir = mkdtempSync(join(tmpdir(), 'whispr-auth-'));
const nowS = (): number => Math.floor(Date.now() / 1000);

async function sign(payload: JWTPayload, alg: string, key: CryptoKey | Uint8Array, kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(kid ? { alg, kid } : { alg }).sign(key);
}
const hs256 = (payload: JWTPayload, secret = SECRET): Promise<string> => sign(payload, 'HS256', new TextEncoder().encode(secret));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function refused(t: Test, verify: TokenVerifier, token: string, reason: AuthFailure, name: string): void {
  t.throws(() => verify(token), { name: 'AuthError', reason }, name);
}

t.test('HS256 with a secret', async (t) => {
  const verify = await createTokenVerifier({ secret: SECRET });
  t.same(verify(await hs256({ sub: USER })), { userId: USER, exp: null }, 'no exp: null');
  const exp = nowS() + 60;
  t.same(verify(await hs256({ sub: USER, exp })), { userId: USER, exp: exp * 1000 }, 'exp in ms');

  refused(t, verify, '', 'missing', 'empty token');
  refused(t, verify, 'not-a-jwt', 'malformed', 'garbage');
  refused(t, verify, 'a.b.c', 'malformed', 'three garbage parts');
  refused(t, verify, await hs256({ sub: USER }, 'another-secret'), 'bad signature', 'other secret');
  refused(t, verify, await hs256({ sub: USER, exp: nowS() - 10 }), 'expired', 'expired');
  refused(t, verify, await hs256({ sub: USER, nbf: nowS() + 3600 }), 'not yet valid', 'nbf in the future');
  // A claims set a typed signer would not produce, as a foreign issuer might.
  const stringExp = { sub: USER, exp: 'tomorrow' } as unknown as JWTPayload;
  refused(t, verify, await hs256(stringExp), 'malformed', 'exp not a number');
  refused(t, verify, await hs256({}), 'bad subject', 'no sub');
  refused(t, verify, await hs256({ sub: USER.toUpperCase() }), 'bad subject', 'uppercase UUID');
  refused(t, verify, await hs256({ sub: 'alice' }), 'bad subject', 'not a UUID');

  const tampered = (await hs256({ sub: USER })).split('.');
  tampered[1] = Buffer.from(JSON.stringify({ sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
  refused(t, verify, tampered.join('.'), 'bad signature', 'payload swapped');

  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: USER })).toString('base64url')}.`;
  refused(t, verify, unsigned, 'bad signature', 'alg none');

  let err: unknown;
  try {
    verify('x');
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof AuthError, 'an AuthError');
  t.ok(err instanceof AuthError && err.cause !== undefined, 'carries the library error as cause');
});

for (const alg of ['RS256', 'ES256'] as const) {
  t.test(`${alg} with a PEM public key`, async (t) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const verify = await createTokenVerifier({ publicKeyFile: file(`${alg}.pem`, await exportSPKI(publicKey)) });
    t.same(verify(await sign({ sub: USER }, alg, privateKey)), { userId: USER, exp: null });
    const other = await generateKeyPair(alg);
    refused(t, verify, await sign({ sub: USER }, alg, other.privateKey), 'bad signature', 'another key pair');
    refused(t, verify, await hs256({ sub: USER }), 'bad signature', 'HS256 against a public key');
    refused(t, verify, await sign({ sub: USER, exp: nowS() - 1 }, alg, privateKey), 'expired', 'expired');
  });
}

t.test('a JWKS file with RSA and EC keys', async (t) => {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  const verify = await createTokenVerifier({ publicKeyFile: file('keys.json', JSON.stringify(jwks)) });
  t.same(verify(await sign({ sub: USER }, 'RS256', rsa.privateKey, 'rsa-1')), { userId: USER, exp: null });
  const exp = nowS() + 30;
  t.same(verify(await sign({ sub: USER, exp }, 'ES256', ec.privateKey, 'ec-1')), { userId: USER, exp: exp * 1000 });
  refused(t, verify, await sign({ sub: USER }, 'ES256', ec.privateKey, 'unknown-kid'), 'bad signature', 'unknown kid');
  const stranger = await generateKeyPair('ES256');
  refused(t, verify, await sign({ sub: USER }, 'ES256', stranger.privateKey, 'ec-1'), 'bad signature', 'right kid, wrong key');

  const single = await createTokenVerifier({ publicKeyFile: file('one.jwk', JSON.stringify(await exportJWK(ec.publicKey))) });
  t.same(single(await sign({ sub: USER }, 'ES256', ec.privateKey)), { userId: USER, exp: null }, 'a bare JWK works as a set of one');
});

t.test('bad options are refused when the verifier is built', async (t) => {
  await t.rejects(createTokenVerifier({}), { name: 'TypeError', message: /options.secret or options.publicKeyFile is required/ });
  await t.rejects(createTokenVerifier({ secret: '' }), { message: /options.secret/ });
  await t.rejects(createTokenVerifier({ secret: SECRET, publicKeyFile: '/x' }), { message: /not both/ });
  await t.rejects(createTokenVerifier({ publicKeyFile: join(dir, 'missing.pem') }), { code: 'ENOENT' });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('junk.txt', 'hello') }), { message: /neither a PEM public key/ });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('bad.json', '{"keys": [') }), { message: /not valid JSON/ });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('empty.json', '{"keys": []}') }), { message: /has no keys/ });
  const ec = await generateKeyPair('ES256', { extractable: true });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('private.json', JSON.stringify(await exportJWK(ec.privateKey))) }), {
    message: /private key/,
  });
  const ed = await generateKeyPair('EdDSA', { extractable: true });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('ed.pem', await exportSPKI(ed.publicKey)) }), { message: /expected RSA \(RS256\) or EC P-256/ });
  await t.rejects(createTokenVerifier({ publicKeyFile: file('ed.json', JSON.stringify(await exportJWK(ed.publicKey))) }), { message: /expected RSA or EC/ });
});
