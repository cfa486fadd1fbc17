// Who may react and pin (PROTOCOL.md §5): active members, admins and plain
// members alike; a non-member, a removed member, a user blocked in a direct
// conversation and an expired session are refused, and a refusal never tells
// whether the message exists.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import pg from 'pg';
import type { PinEvent, ReactionEvent } from '@whispr/protocol';
import { WhisprClient, WhisprUpgradeError } from '@whispr/client';
import { startTestNode, type TestNode } from './helpers/test-node.ts';

/** The five ops, as one user would call them on one message. */
function allOps(c: WhisprClient, conversationId: string, messageId: string): [string, () => Promise<unknown>][] {
  return [
    ['msg.react', () => c.react(conversationId, messageId, '👍')],
    ['msg.unreact', () => c.unreact(conversationId, messageId, '👍')],
    ['msg.pin', () => c.pin(conversationId, messageId)],
    ['msg.unpin', () => c.unpin(conversationId, messageId)],
    ['conv.pins', () => c.pins(conversationId)],
  ];
}

async function openDb(t: Test, n: TestNode): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  return db;
}

function heard(c: WhisprClient): (ReactionEvent | PinEvent)[] {
  const got: (ReactionEvent | PinEvent)[] = [];
  c.on('reaction', (ev) => got.push(ev));
  c.on('pin', (ev) => got.push(ev));
  return got;
}

t.test('a non-member is refused alike whether the message exists or not; a missing conversation is not_found', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, eve] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const e = await n.connect(eve, 'msgpack');
  const eveHeard = heard(e);
  const { conversation } = await a.direct(bob);
  const { message } = await a.send(conversation.id, { content: 'private' });
  await a.react(conversation.id, message.id, '👍');
  await a.pin(conversation.id, message.id);

  for (const messageId of [message.id, randomUUID()]) {
    for (const [op, call] of allOps(e, conversation.id, messageId)) {
      const err = await call().then(() => null, (x: unknown) => x);
      t.match(err, { code: 'forbidden', message: 'not an active member of this conversation' }, `${op} by a non-member (${messageId === message.id ? 'real' : 'random'} message): forbidden, nothing more`);
    }
  }
  for (const [op, call] of allOps(e, randomUUID(), message.id)) await t.rejects(call(), { code: 'not_found' }, `${op} on no conversation: not_found`);

  const db = await openDb(t, n);
  const counts = await db.query<{ r: number; p: number }>(
    'SELECT (SELECT count(*) FROM message_reactions)::int AS r, (SELECT count(*) FROM pinned_messages)::int AS p',
  );
  t.same(counts.rows[0], { r: 1, p: 1 }, 'nothing written by eve');
  await a.unreact(conversation.id, message.id, '👍');
  await a.ping();
  await new Promise((r) => setTimeout(r, 200));
  t.same(eveHeard, [], 'a non-member hears no reaction or pin events');
});

t.test('a removed member is refused and hears nothing; plain members and admins may all react and pin', async (t) => {
  // Short idle time: the actor is evicted and reloads the membership written below.
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 1000 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const c = await n.connect(carol);
  const { conversation } = await a.group([bob, carol]);
  t.equal(conversation.members.find((m) => m.user_id === alice)?.role, 'admin');
  t.equal(conversation.members.find((m) => m.user_id === carol)?.role, 'member');
  const { message } = await a.send(conversation.id, { content: 'hello' });
  for (const [op, call] of allOps(c, conversation.id, message.id)) t.ok(await call(), `${op} by a plain member: allowed`);
  for (const [op, call] of allOps(a, conversation.id, message.id)) t.ok(await call(), `${op} by the admin: allowed`);

  // conv.members.remove is built elsewhere: remove carol as it will, in PostgreSQL, and let the actor reload.
  const db = await openDb(t, n);
  await db.query('UPDATE conversation_members SET is_active = false WHERE conversation_id = $1 AND user_id = $2', [conversation.id, carol]);
  const registry = `${n.redisPrefix}cluster:conversation_registry`;
  const listed = async (): Promise<boolean> => (await n.redis.hexists(registry, conversation.id)) === 1;
  // The mirror is written at the registry's sweeps: listed first, then gone once evicted.
  for (let i = 0; i < 100 && !(await listed()); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 100 && (await listed()); i++) await new Promise((r) => setTimeout(r, 100));
  t.notOk(await listed(), 'the actor was evicted');

  const bobHeard = heard(b);
  const carolHeard = heard(c);
  for (const [op, call] of allOps(c, conversation.id, message.id)) await t.rejects(call(), { code: 'forbidden' }, `${op} by a removed member: forbidden`);
  await a.react(conversation.id, message.id, '🎉');
  await a.pin(conversation.id, message.id);
  await a.unpin(conversation.id, message.id);
  for (let i = 0; i < 100 && bobHeard.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(bobHeard.length, 3, 'an active member hears the changes');
  await new Promise((r) => setTimeout(r, 200));
  t.same(carolHeard, [], 'the removed member hears none of them');
});

t.test('in a direct conversation a blocked user cannot react or pin, but may take back; blocks do not apply in groups', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const direct = (await a.direct(bob)).conversation;
  const group = (await a.group([bob, carol])).conversation;
  const { message } = await a.send(direct.id, { content: 'before the block' });
  const inGroup = (await a.send(group.id, { content: 'group' })).message;
  await b.react(direct.id, message.id, '👍');
  await b.pin(direct.id, message.id);

  // Blocks come from the user-service: written here as it will.
  const db = await openDb(t, n);
  await db.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [alice, bob]);
  await t.rejects(b.react(direct.id, message.id, '🎉'), { code: 'forbidden' }, 'the blocked user cannot react');
  await t.rejects(b.pin(direct.id, randomUUID()), { code: 'not_found' }, 'a missing message is still not_found for a member');
  t.same(await b.unpin(direct.id, message.id), {}, 'but may unpin');
  await t.rejects(b.pin(direct.id, message.id), { code: 'forbidden' }, 'and cannot pin again');
  t.same(await b.unreact(direct.id, message.id, '👍'), {}, 'and may take a reaction back');
  t.same(await b.pins(direct.id), { pins: [] }, 'and may read the pins');
  t.same(await a.react(direct.id, message.id, '❤️'), {}, 'the blocker is not stopped by their own block');
  t.same(await a.pin(direct.id, message.id), {});
  t.same(await b.react(group.id, inGroup.id, '👍'), {}, 'in a group the block does not apply');
  t.same(await b.pin(group.id, inGroup.id), {});
});

t.test('an expired session is closed and an expired token cannot reconnect', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const { message } = await a.send(conversation.id, { content: 'x' });
  const b = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(bob, 3) });
  const closed = new Promise<number>((resolve) => b.on('close', (ev) => resolve(ev.code)));
  t.same(await b.react(conversation.id, message.id, '👍'), {}, 'allowed while the token is valid');
  t.equal(await closed, 4001, 'closed with 4001 at expiry');
  await t.rejects(b.pin(conversation.id, message.id), 'nothing more goes through the closed connection');
  const err = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(bob, -10) }).then(() => null, (x: unknown) => x);
  t.ok(err instanceof WhisprUpgradeError && err.status === 401, 'an expired token is refused with 401');
  t.same((await a.pins(conversation.id)).pins, [], 'nothing was pinned');
});
