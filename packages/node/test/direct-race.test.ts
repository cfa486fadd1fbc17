import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('concurrent conv.direct for one pair return one conversation', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const clients = await Promise.all([n.connect(alice), n.connect(bob, 'msgpack'), n.connect(alice, 'msgpack'), n.connect(bob)]);
  const results = await Promise.all(clients.flatMap((c, i) => Array.from({ length: 5 }, () => c.direct(i % 2 === 0 ? bob : alice))));
  t.equal(new Set(results.map((r) => r.conversation.id)).size, 1, 'one conversation');
  const list = await clients[0]!.list();
  t.equal(list.conversations.length, 1);
});
