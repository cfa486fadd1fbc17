// msg.react / msg.unreact end to end: idempotent, counted per reaction with `me`
// for each viewer in every message view (history, sync, conv.list), announced to
// every connection of every member only when something changed.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { reactionsFor } from '@whispr/store';
import type { ReactionEvent } from '@whispr/protocol';
import type { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

/** Collects the `reaction` events a connection receives. */
function reactionsHeard(c: WhisprClient): ReactionEvent[] {
  const heard: ReactionEvent[] = [];
  c.on('reaction', (ev) => heard.push(ev));
  return heard;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting: ${what}`);
}

t.test('reactions: idempotent, counts and me per viewer, events to every connection, unreact', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b1 = await n.connect(bob);
  const b2 = await n.connect(bob, 'msgpack');
  const c = await n.connect(carol);
  const { conversation } = await a.group([bob, carol]);
  const newEvent = new Promise<unknown>((resolve) => c.once('msg.new', (ev) => resolve(ev.message.reactions)));
  const { message } = await a.send(conversation.id, { content: 'react to me' });
  t.same(await newEvent, [], 'msg.new carries reactions []');

  const [heardA, heardB1, heardB2, heardC] = [a, b1, b2, c].map(reactionsHeard) as [ReactionEvent[], ReactionEvent[], ReactionEvent[], ReactionEvent[]];

  t.same(await a.react(conversation.id, message.id, '👍'), {}, 'react replies {}');
  t.same(await a.react(conversation.id, message.id, '👍'), {}, 'reacting twice is fine');
  await b1.react(conversation.id, message.id, '👍');
  await b2.react(conversation.id, message.id, '🎉');

  const expected: Partial<ReactionEvent>[] = [
    { ev: 'reaction', conversation_id: conversation.id, message_id: message.id, user_id: alice, reaction: '👍', added: true },
    { user_id: bob, reaction: '👍', added: true },
    { user_id: bob, reaction: '🎉', added: true },
  ];
  for (const [name, heard] of [['alice', heardA], ['bob (json)', heardB1], ['bob (msgpack)', heardB2], ['carol', heardC]] as const) {
    await until(() => heard.length >= 3, `${name} hears three reactions`);
    t.match(heard, expected, `${name}: one event per change, in order (the repeat sent none)`);
  }

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_reactions WHERE message_id = $1', [message.id]);
  t.equal(rows.rows[0]?.n, 3, 'three rows: the repeated reaction is one row');

  const seenBy = async (client: WhisprClient) => (await client.history(conversation.id)).messages[0]?.reactions;
  t.same(await seenBy(a), [{ reaction: '🎉', count: 1, me: false }, { reaction: '👍', count: 2, me: true }], 'alice: counts, me on hers');
  t.same(await seenBy(b1), [{ reaction: '🎉', count: 1, me: true }, { reaction: '👍', count: 2, me: true }], 'bob: me on both');
  t.same(await seenBy(c), [{ reaction: '🎉', count: 1, me: false }, { reaction: '👍', count: 2, me: false }], 'carol: none of hers');

  const synced = await b1.sync([{ conversation_id: conversation.id, after_seq: 0 }]);
  t.same(synced.conversations[0]?.messages[0]?.reactions, [{ reaction: '🎉', count: 1, me: true }, { reaction: '👍', count: 2, me: true }], 'sync carries them');
  const listed = await c.list();
  t.same(listed.conversations[0]?.last_message?.reactions, [{ reaction: '🎉', count: 1, me: false }, { reaction: '👍', count: 2, me: false }], 'conv.list last_message carries them');

  t.same(await b2.unreact(conversation.id, message.id, '🎉'), {}, 'unreact replies {}');
  t.same(await b2.unreact(conversation.id, message.id, '🎉'), {}, 'unreacting what is not there is fine');
  t.same(await c.unreact(conversation.id, message.id, '👍'), {}, 'unreacting a reaction only others made is fine');
  await until(() => heardA.length >= 4, 'alice hears the unreact');
  await new Promise((r) => setTimeout(r, 200));
  t.match(heardA.slice(3), [{ user_id: bob, reaction: '🎉', added: false }], 'one event for the one real removal');
  t.equal(heardA.length, 4, 'no event for the no-op unreacts');
  t.same(await seenBy(a), [{ reaction: '👍', count: 2, me: true }], 'the removed reaction is gone from the summary');
});

t.test('reactionsFor gives the summary of many messages in one query, as history does', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await a.send(conversation.id, { content: `m${i}` })).message.id);
  await a.react(conversation.id, ids[0]!, 'ok');
  await b.react(conversation.id, ids[0]!, 'ok');
  await b.react(conversation.id, ids[2]!, '❤️');
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const map = await reactionsFor(db, ids, bob);
  const history = (await b.history(conversation.id)).messages;
  for (const m of history) t.same(map.get(m.id) ?? [], m.reactions, `seq ${m.seq}: same summary as history`);
  t.notOk(map.has(ids[1]!), 'a message without reactions is absent');
  t.same((await reactionsFor(db, [], bob)).size, 0, 'no ids, no query, empty map');
});
