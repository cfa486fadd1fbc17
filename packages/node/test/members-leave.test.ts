// conv.leave: a member leaves a group with a system message; the last admin's
// leaving makes the longest-standing member admin; a direct conversation cannot
// be left; the leaver hears conv.updated and then nothing.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf, listen, sleep, until } from './helpers/members.ts';

t.test('leaving a group', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const c = await n.connect(carol);
  const atC = listen(c);
  const atA = listen(a);
  const { conversation } = await a.group([bob, carol]);
  const id = conversation.id;
  await until('carol hears of the new group', () => atC.updates.length === 1);
  atC.updates.length = 0;
  atC.order.length = 0;

  t.same(await c.leave(id), {}, 'a plain member leaves');
  await until('carol hears she left', () => atC.updates.length === 1);
  t.same(atC.order, ['msg.new:1', 'conv.updated']);
  t.match(atC.messages[0], { type: 'system', metadata: { action: 'member.left', by: carol, user_ids: [carol] } });
  t.equal(atC.updates[0]?.conversation.members.find((m) => m.user_id === carol)?.is_active, false);
  t.equal(await codeOf(c.leave(id)), 'forbidden', 'leaving twice: no longer a member');

  await until('alice heard it', () => atA.messages.length === 1);
  await a.leave(id);
  await until('alice heard her own leaving', () => atA.messages.length === 2);
  t.match(atA.messages[1], { seq: 2, metadata: { action: 'member.left', user_ids: [alice], promoted: [bob] } }, 'the last admin hands over');
  const seen = await b.get(id);
  t.equal(seen.conversation.members.find((m) => m.user_id === bob)?.role, 'admin', 'bob, the longest-standing member left, is admin');
  t.same(seen.conversation.members.filter((m) => m.is_active).map((m) => m.user_id), [bob]);
  t.ok((await b.addMembers(id, [carol])).conversation.members.find((m) => m.user_id === carol)?.is_active, 'and can manage the group');

  await b.send(id, { content: 'after alice left' });
  await sleep(300);
  t.notOk(atA.messages.some((m) => m.seq > 2), 'alice heard nothing after leaving');
  t.equal(await codeOf(a.send(id, { content: 'x' })), 'forbidden');
});

t.test('a direct conversation cannot be left', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  t.equal(await codeOf(a.leave(conversation.id)), 'forbidden');
  t.equal((await a.get(conversation.id)).conversation.last_seq, 0, 'nothing was recorded');
});
