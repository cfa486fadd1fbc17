// The authorization matrix of the membership, metadata and settings ops:
// admin, plain member, non-member, removed member, unknown conversation, a direct
// conversation, and an expired token. No refusal carries the conversation.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { WhisprClient, WhisprRequestError } from '@whispr/client';
import type { WhisprClient as Client } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf } from './helpers/members.ts';

type Call = (c: Client, id: string) => Promise<unknown>;
const someone = randomUUID();
const OPS: [string, Call][] = [
  ['conv.members.add', (c, id) => c.addMembers(id, [someone])],
  ['conv.members.remove', (c, id) => c.removeMembers(id, [someone])],
  ['conv.update', (c, id) => c.updateConversation(id, { name: 'x' })],
  ['conv.settings.get', (c, id) => c.getSettings(id)],
  ['conv.settings.set', (c, id) => c.setSettings(id, { notifications: false })],
  ['member.settings.set', (c, id) => c.setMemberSettings(id, { muted_until: 1 })],
  // Last: it changes who is a member.
  ['conv.leave', (c, id) => c.leave(id)],
];
const ADMIN_ONLY = new Set(['conv.members.add', 'conv.members.remove', 'conv.update', 'conv.settings.set']);

t.test('who may run each op', async (t) => {
  const n = await startTestNode(t);
  const [admin, member, outsider, removed] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const [ad, me, out, rm] = await Promise.all([n.connect(admin), n.connect(member, 'msgpack'), n.connect(outsider), n.connect(removed)]);
  const { conversation } = await ad.group([member, removed]);
  await ad.removeMembers(conversation.id, [removed]);
  const group = conversation.id;
  const direct = (await ad.direct(member)).conversation.id;

  for (const [op, call] of OPS) {
    t.equal(await codeOf(call(out, group)), 'forbidden', `${op}: a non-member is forbidden`);
    t.equal(await codeOf(call(rm, group)), 'forbidden', `${op}: a removed member is forbidden`);
    t.equal(await codeOf(call(out, randomUUID())), 'not_found', `${op}: an unknown conversation is not_found`);
    t.equal(await codeOf(call(me, group)), ADMIN_ONLY.has(op) ? 'forbidden' : 'ok', `${op}: a plain member ${ADMIN_ONLY.has(op) ? 'is forbidden' : 'may'}`);
    t.equal(await codeOf(call(ad, direct)), ADMIN_ONLY.has(op) || op === 'conv.leave' ? 'forbidden' : 'ok', `${op} on a direct conversation`);
  }
  // The plain member left last; the admin may do all of it.
  for (const [op, call] of OPS) t.equal(await codeOf(call(ad, group)), 'ok', `${op}: the admin may`);
  const refusal = await out.addMembers(group, [outsider]).then(() => null, (err: unknown) => err);
  t.ok(refusal instanceof Error);
  const said = refusal instanceof WhisprRequestError ? JSON.stringify({ message: refusal.message, details: refusal.details }) : '';
  for (const secret of [admin, member, removed, 'name']) t.notOk(said.includes(secret), 'a refusal carries nothing of the conversation');
});

t.test('an expired token: the connection closes and a new one is refused', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const admin = randomUUID();
  const fresh = await n.connect(admin);
  const { conversation } = await fresh.group([randomUUID()]);
  const c = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(admin, 3) });
  const closed = new Promise<number>((resolve) => c.on('close', (ev) => resolve(ev.code)));
  t.equal(await closed, 4001);
  for (const [op, call] of OPS) t.not(await call(c, conversation.id).then(() => 'ok', () => 'refused'), 'ok', `${op} after expiry is not run`);
  await t.rejects(WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(admin, -10) }), 'the expired token cannot reconnect');
  t.equal((await fresh.get(conversation.id)).conversation.last_seq, 0, 'nothing was recorded');
});
