import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('a non-member is refused every conversation operation', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, eve] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const e = await n.connect(eve, 'msgpack');
  const { conversation } = await a.direct(bob);
  await a.send(conversation.id, { content: 'private' });
  const id = conversation.id;
  await t.rejects(e.send(id, { content: 'let me in' }), { code: 'forbidden' });
  await t.rejects(e.history(id), { code: 'forbidden' });
  await t.rejects(e.get(id), { code: 'forbidden' });
  await t.rejects(e.markRead(id, 1), { code: 'forbidden' });
  await t.rejects(e.markDelivered(id, 1), { code: 'forbidden' });
  await t.rejects(e.send(randomUUID(), { content: 'nowhere' }), { code: 'not_found' });
  await t.rejects(e.history(randomUUID()), { code: 'not_found' });
  const list = await e.list();
  t.equal(list.conversations.length, 0, 'nothing listed for eve');
  t.equal((await a.history(id)).messages.length, 1, 'nothing was written by eve');
});

t.test('conv.direct with oneself is a bad request', async (t) => {
  const n = await startTestNode(t);
  const alice = randomUUID();
  const a = await n.connect(alice);
  await t.rejects(a.direct(alice), { code: 'bad_request' });
});
