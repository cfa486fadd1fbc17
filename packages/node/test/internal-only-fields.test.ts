// Fields only internal calls may set are refused when a client's frame carries
// them, in either encoding, and nothing runs; the service's placeholder id is
// no token's subject.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { SignJWT } from 'jose';
import { WhisprClient, WhisprRequestError, WhisprUpgradeError } from '@whispr/client';
import { WhisprError } from '@whispr/protocol';
import { startTestNode, TEST_SECRET } from './helpers/test-node.ts';

t.test('a socket frame with scheduled_id is refused with bad_request naming it', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  let clientRandom = 1;
  for (const encoding of ['json', 'msgpack'] as const) {
    const a = await n.connect(alice, encoding);
    const { conversation } = await a.direct(randomUUID());
    const err = await a.requestUnchecked('msg.send', {
      conversation_id: conversation.id, client_random: clientRandom, type: 'text',
      content: encoding === 'json' ? Buffer.from('x').toString('base64') : Buffer.from('x'),
      scheduled_id: randomUUID(),
    }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof WhisprRequestError, `${encoding}: refused`);
    t.equal((err as WhisprRequestError).code, 'bad_request', `${encoding}: bad_request`);
    t.equal((err as WhisprRequestError).details.field, 'scheduled_id', `${encoding}: names the field`);
    t.equal((await a.history(conversation.id)).messages.length, 0, `${encoding}: nothing was sent`);
    const internal = await n.node.internal.call({ kind: 'user', userId: alice }, {
      op: 'msg.send', conversation_id: conversation.id, client_random: clientRandom++, type: 'text', content: Buffer.from('x'), scheduled_id: randomUUID(),
    }).then(() => 'ok', (e: unknown) => (e instanceof WhisprError ? e.code : 'other'));
    // From an internal call the field passes validation and means something: an id naming no scheduled message is not_found.
    t.equal(internal, 'not_found', `${encoding}: the same field from an internal call is accepted and checked`);
  }
});

t.test('a token whose subject is the service’s placeholder id is refused', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('00000000-0000-0000-0000-000000000000').setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET));
  const err = await WhisprClient.connect({ url: n.node.wsUrl, token }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof WhisprUpgradeError, 'refused at the upgrade');
  t.equal((err as WhisprUpgradeError).status, 401, '401');
});
