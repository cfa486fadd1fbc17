// Settings: conversation settings merged by admins and read by members; a
// member's own settings merged and private: no other member sees them, in
// conv.get, conv.list or conv.updated. conv.update replaces the metadata.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf, listen, sleep, until } from './helpers/members.ts';

t.test('member settings are the member’s own', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  const atA = listen(a);
  const atB = listen(b);
  const { conversation } = await a.group([bob], { name: 'g' });
  const id = conversation.id;
  await until('bob hears of the group', () => atB.updates.length === 1);

  t.same((await b.setMemberSettings(id, { muted_until: 123, sound: 'ding' })).settings, { muted_until: 123, sound: 'ding' });
  t.same((await b.setMemberSettings(id, { muted_until: null })).settings, { muted_until: null, sound: 'ding' }, 'merged, top-level keys replaced');
  await until('bob’s own connection hears it', () => atB.updates.length === 3);
  t.same(atB.updates[2]?.conversation.members.find((m) => m.user_id === bob)?.settings, { muted_until: null, sound: 'ding' }, 'with his settings');

  const mineForBob = (await b.get(id)).conversation.members.find((m) => m.user_id === bob);
  t.same(mineForBob?.settings, { muted_until: null, sound: 'ding' }, 'bob sees his own in conv.get');
  const bobForAlice = (await a.get(id)).conversation.members.find((m) => m.user_id === bob);
  t.notOk(bobForAlice && 'settings' in bobForAlice, 'alice never sees bob’s settings in conv.get');
  const listed = (await a.list()).conversations.find((c) => c.conversation.id === id)?.conversation.members.find((m) => m.user_id === bob);
  t.notOk(listed && 'settings' in listed, 'nor in conv.list');
  const bobListed = (await b.list()).conversations.find((c) => c.conversation.id === id)?.conversation.members.find((m) => m.user_id === bob);
  t.same(bobListed?.settings, { muted_until: null, sound: 'ding' }, 'bob does, in his');

  await a.updateConversation(id, { name: 'renamed', topic: 'x' });
  await until('both hear the update', () => atA.updates.length >= 1 && atB.updates.length === 4);
  for (const ev of [...atA.updates, ...atB.updates.slice(3)]) {
    for (const m of ev.conversation.members) t.notOk('settings' in m, 'conv.updated to many carries nobody’s settings');
  }
  await sleep(200);
  t.equal(atA.updates.length, 1, 'alice heard nothing of bob’s settings changes');
  t.same(atB.updates[3]?.conversation.metadata, { name: 'renamed', topic: 'x' });
  t.same((await b.updateConversation(id, {}).catch(() => null)), null, 'bob is no admin');
  t.same((await a.updateConversation(id, { topic: 'y' })).conversation.metadata, { topic: 'y' }, 'conv.update replaces the metadata');
});

t.test('conversation settings and bounds', async (t) => {
  const n = await startTestNode(t, { workers: 1, limits: { max_metadata_bytes: 200 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  const { conversation } = await a.group([bob]);
  const id = conversation.id;
  t.same((await b.getSettings(id)).settings, { notifications: true, retention_days: null }, 'the seed’s defaults');
  t.same((await a.setSettings(id, { notifications: false })).settings, { notifications: false, retention_days: null }, 'merged');
  t.same((await b.getSettings(id)).settings, { notifications: false, retention_days: null }, 'members read it');
  t.equal(await codeOf(b.setSettings(id, { notifications: true })), 'forbidden', 'only admins set it');
  const big = { blob: 'x'.repeat(300) };
  t.equal(await codeOf(a.setSettings(id, big)), 'too_large');
  t.equal(await codeOf(b.setMemberSettings(id, big)), 'too_large');
  t.equal(await codeOf(a.updateConversation(id, big)), 'too_large');
  for (let i = 0; i < 3; i++) await b.setMemberSettings(id, { [`k${i}`]: 'y'.repeat(50) });
  t.equal(await codeOf(b.setMemberSettings(id, { k3: 'y'.repeat(50) })), 'too_large', 'the merged object is bounded too');
  t.same(Object.keys((await b.get(id)).conversation.members.find((m) => m.user_id === bob)?.settings ?? {}), ['k0', 'k1', 'k2'], 'nothing written');
  t.equal(await codeOf(b.requestUnchecked('member.settings.set', { conversation_id: id, settings: { blob: new Uint8Array(3) } })), 'bad_request', 'binary is no JSON');
  t.equal(await codeOf(b.requestUnchecked('member.settings.set', { conversation_id: id, settings: 'muted' })), 'bad_request', 'settings must be an object');
});
