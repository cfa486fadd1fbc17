// unread_count in conv.list never counts system messages (PROTOCOL.md §5), and a
// member who joins or returns starts with nothing unread.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('system messages are never unread', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const c = await n.connect(carol);
  const { conversation } = await a.group([bob]);
  const id = conversation.id;
  await a.send(id, { content: 'one' });
  await a.addMembers(id, [carol]);
  await a.send(id, { content: 'two' });
  await a.removeMembers(id, [carol]);
  await a.addMembers(id, [carol]);
  const unread = async (who: typeof a): Promise<number | undefined> => (await who.list()).conversations.find((x) => x.conversation.id === id)?.unread_count;
  t.equal(await unread(b), 2, 'bob: the two texts, not the three system messages');
  t.equal(await unread(c), 0, 'carol, back after the last text, has nothing unread');
  t.equal(await unread(a), 0, 'alice sent everything');
  await c.leave(id);
  t.equal(await unread(b), 2, 'still two for bob');
  await b.markRead(id, 1);
  t.equal(await unread(b), 1);
});
