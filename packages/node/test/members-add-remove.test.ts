// conv.members.add / conv.members.remove: system messages take gap-free seqs,
// added members hear conv.updated and everything after, a removed member hears
// conv.updated (themselves inactive) and then nothing, and is forbidden everywhere;
// re-adding reactivates.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf, listen, sleep, until } from './helpers/members.ts';

t.test('add, remove and re-add in a group', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol, dave] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  const d = await n.connect(dave);
  const atB = listen(b);
  const atD = listen(d);
  const { conversation } = await a.group([bob, carol], { name: 'team' });
  const id = conversation.id;

  const added = await a.addMembers(id, [dave, carol]);
  t.ok(added.conversation.members.find((m) => m.user_id === dave)?.is_active, 'dave is an active member in the reply');
  t.equal(added.conversation.last_seq, 1, 'the system message took seq 1');
  await until('dave hears conv.updated', () => atD.updates.length === 1);
  t.equal(atD.updates[0]?.conversation.id, id);
  await until('dave hears the system message', () => atD.messages.length === 1);
  t.match(atD.messages[0], { seq: 1, type: 'system', metadata: { action: 'members.added', by: alice, user_ids: [dave] } }, 'carol, already a member, is skipped');

  await a.send(id, { content: 'welcome' });
  await until('dave hears the message after joining', () => atD.messages.length === 2);

  await until('bob heard the add', () => atB.messages.length === 2);
  const bobBefore = atB.updates.length;
  const removed = await a.removeMembers(id, [bob]);
  t.equal(removed.conversation.members.find((m) => m.user_id === bob)?.is_active, false);
  await until('bob hears his removal', () => atB.updates.length === bobBefore + 1);
  t.same(atB.order.slice(-2), ['msg.new:3', 'conv.updated'], 'the system message, then conv.updated');
  t.equal(atB.updates[bobBefore]?.conversation.members.find((m) => m.user_id === bob)?.is_active, false, 'bob is inactive in it');
  t.match(atB.messages[atB.messages.length - 1], { seq: 3, type: 'system', metadata: { action: 'members.removed', by: alice, user_ids: [bob] } });
  const bobHeard = atB.order.length;

  await a.send(id, { content: 'bob is gone' });
  await a.updateConversation(id, { name: 'team, without bob' });
  t.equal(await codeOf(b.send(id, { content: 'still here?' })), 'forbidden', 'a removed member cannot send');
  t.equal(await codeOf(b.get(id)), 'forbidden', 'nor read the conversation');
  t.equal(await codeOf(b.history(id)), 'forbidden', 'nor its history');
  t.equal(await codeOf(b.markRead(id, 4)), 'forbidden', 'nor send receipts');
  const synced = await b.sync([{ conversation_id: id, after_seq: 0 }]);
  t.match(synced.conversations[0], { messages: [], error: { code: 'forbidden' } }, 'nor sync it');
  t.notOk((await b.list()).conversations.some((c) => c.conversation.id === id), 'it left bob’s list');
  await until('dave has seq 4', () => atD.messages.some((m) => m.seq === 4));
  await sleep(300);
  t.equal(atB.order.length, bobHeard, 'bob heard nothing after his removal');

  const back = await a.addMembers(id, [bob]);
  t.ok(back.conversation.members.find((m) => m.user_id === bob)?.is_active, 'bob is active again');
  t.equal(back.conversation.members.filter((m) => m.user_id === bob).length, 1, 'the same member entry');
  await until('bob hears he is back', () => atB.updates.length === bobBefore + 2);
  t.ok((await b.send(id, { content: 'back' })).message.seq > 0, 'bob sends again');

  const page = await a.history(id);
  const seqs = page.messages.map((m) => m.seq);
  t.same(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seqs run 1..N without a gap');
  t.same(page.messages.map((m) => m.type), ['system', 'text', 'system', 'text', 'system', 'text']);
  t.equal((await a.get(id)).conversation.last_seq, 6);
});

t.test('bounds: members per add and the group size', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  const a = await n.connect(alice);
  const { conversation } = await a.group([]);
  t.equal(await codeOf(a.addMembers(conversation.id, Array.from({ length: 101 }, () => randomUUID()))), 'bad_request', 'over 100 ids per add');
  t.equal(await codeOf(a.addMembers(conversation.id, [])), 'bad_request', 'at least one id');
  t.equal(await codeOf(a.removeMembers(conversation.id, [alice])), 'bad_request', 'an admin does not remove themselves');
  for (let i = 0; i < 9; i++) await a.addMembers(conversation.id, Array.from({ length: 100 }, () => randomUUID()));
  const full = await a.addMembers(conversation.id, Array.from({ length: 99 }, () => randomUUID()));
  t.equal(full.conversation.members.length, 1000, 'a group holds 1000 members');
  t.equal(await codeOf(a.addMembers(conversation.id, [randomUUID()])), 'bad_request', 'not 1001');
});
