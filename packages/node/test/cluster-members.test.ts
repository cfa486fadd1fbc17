// Two nodes: a member added to a group owned by one node, while connected to the
// other, hears conv.updated and every later message; once removed, nothing more.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestCluster } from './helpers/test-cluster.ts';
import { codeOf, listen, sleep, until } from './helpers/members.ts';

t.test('membership changes reach a member on the other node', async (t) => {
  const c = await startTestCluster(t, 2);
  await c.converged();
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await c.connect(alice, 0);
  const b = await c.connect(bob, 1, 'msgpack');
  const atB = listen(b);
  // A group owned by node 0, so bob's events cross to node 1.
  let id = '';
  for (let i = 0; i < 20 && !id; i++) {
    const { conversation } = await a.group([]);
    if (c.ownerIndex(conversation.id) === 0) id = conversation.id;
  }
  t.ok(id, 'a group owned by node 0');

  await a.addMembers(id, [bob]);
  await until('bob, on node 1, hears conv.updated', () => atB.updates.length === 1);
  t.ok(atB.updates[0]?.conversation.members.find((m) => m.user_id === bob)?.is_active);
  for (let i = 0; i < 5; i++) await a.send(id, { content: `m${i}` });
  await until('bob hears the system message and the five', () => atB.messages.length === 6);
  t.same(atB.messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
  t.ok((await b.send(id, { content: 'from node 1' })).message.seq === 7, 'bob sends through node 0');

  await a.removeMembers(id, [bob]);
  await until('bob hears his removal', () => atB.updates.length === 2);
  const heard = atB.order.length;
  await a.send(id, { content: 'after' });
  await sleep(500);
  t.equal(atB.order.length, heard, 'nothing after the removal');
  t.equal(await codeOf(b.history(id)), 'forbidden');
});
