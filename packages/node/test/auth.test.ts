import { randomUUID } from 'node:crypto';
import t from 'tap';
import { SignJWT } from 'jose';
import { WhisprClient, WhisprUpgradeError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('the upgrade is refused with 401 for a missing, malformed, badly signed or expired token', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const user = randomUUID();
  const wrongKey = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).sign(new TextEncoder().encode('another secret'));
  const expired = await n.token(user, -10);
  const notUuid = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode('test-secret-for-whispr'));
  for (const [name, token] of [['missing', ''], ['malformed', 'abc.def'], ['bad signature', wrongKey], ['expired', expired], ['sub not a uuid', notUuid]] as const) {
    const err = await WhisprClient.connect({ url: n.node.wsUrl, token }).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof WhisprUpgradeError, `${name}: refused`);
    t.equal((err as WhisprUpgradeError).status, 401, `${name}: 401`);
  }
  const viaQuery = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(user), tokenIn: 'query', encoding: 'msgpack' });
  t.equal(viaQuery.hello.user_id, user, 'the token parameter works too');
  await viaQuery.close();
});

t.test('the connection is closed with 4001 when the token expires, even when idle', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const user = randomUUID();
  // Long enough to connect on a loaded machine, short enough to wait for.
  const expiresAt = (Math.floor(Date.now() / 1000) + 4) * 1000;
  const c = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(user, 4) });
  const code = await new Promise<number>((resolve) => c.on('close', (ev) => resolve(ev.code)));
  t.equal(code, 4001);
  t.ok(Date.now() >= expiresAt - 1000, 'not closed before expiry');
  t.ok(Date.now() - expiresAt < 3000, 'closed at expiry');
});
