// What a reaction may be and where it may go: at most 10 Unicode code points
// (an emoji of several code points counts each), no NUL or control characters,
// bounded per user and per message, on a message of this conversation that is
// not a tombstone.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { MAX_REACTIONS_PER_MESSAGE, MAX_REACTIONS_PER_USER, reactionProblem } from '@whispr/protocol';
import { startTestNode } from './helpers/test-node.ts';

t.test('reaction strings: code points counted, control characters refused', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const am = await n.connect(alice, 'msgpack');
  const { conversation } = await a.direct(bob);
  const { message } = await a.send(conversation.id, { content: 'x' });
  const react = (reaction: string, client = a) => client.react(conversation.id, message.id, reaction);

  const family = '👨‍👩‍👧‍👦'; // 7 code points, 11 UTF-16 units
  t.equal(Array.from(family).length, 7);
  t.equal(family.length, 11);
  t.same(await react(family), {}, 'an emoji of 7 code points (11 UTF-16 units) is accepted');
  const tenCodePoints = '🏳️‍🌈'.repeat(2) + 'ab'; // 4 + 4 + 2 code points, 14 UTF-16 units
  t.same(await react(tenCodePoints), {}, '10 code points are accepted');
  t.same(await react('abcdefghij'), {}, '10 ASCII characters are accepted');
  t.same(await react('👍🏽', am), {}, 'skin tone modifier, over MessagePack');

  for (const [name, bad] of [
    ['11 characters', 'abcdefghijk'],
    ['11 code points of emoji', '😀'.repeat(11)],
    ['21 UTF-16 units', '😀'.repeat(10) + 'a'],
    ['empty', ''],
    ['NUL', 'a\u0000b'],
    ['a lone NUL', '\u0000'],
    ['a control character', 'a\u0007'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u0085'],
    ['a newline', 'ok\n'],
    ['a line separator', 'a\u2028'],
    ['blank', '   '],
  ] as const) {
    for (const client of [a, am]) {
      await t.rejects(react(bad, client), { code: 'bad_request', details: { field: 'reaction' } }, `${name} (${client === a ? 'json' : 'msgpack'}): bad_request naming reaction`);
    }
  }
  for (const long of ['abcdefghijk', '😀'.repeat(11), 'x'.repeat(100_000)]) {
    await t.rejects(react(long), { code: 'bad_request', message: /at most 10 characters \(Unicode code points\)/ }, `${long.length} UTF-16 units: the message says the rule`);
  }
  // Only JSON can carry a lone surrogate ("\ud83d"); MessagePack strings are UTF-8, which cannot.
  await t.rejects(react('\ud83d'), { code: 'bad_request', details: { field: 'reaction' } }, 'a lone surrogate (json)');
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const stored = await db.query<{ reaction: string }>('SELECT reaction FROM message_reactions WHERE message_id = $1 ORDER BY created_at', [message.id]);
  t.same(new Set(stored.rows.map((r) => r.reaction)), new Set([family, tenCodePoints, 'abcdefghij', '👍🏽']), 'exactly the accepted ones, stored as sent');
  t.equal(reactionProblem('ok'), null, 'the SDK can check before sending');
});

t.test('reactions are bounded per user and per message', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  const others = Array.from({ length: MAX_REACTIONS_PER_MESSAGE / MAX_REACTIONS_PER_USER }, () => randomUUID());
  const a = await n.connect(alice);
  const { conversation } = await a.group(others);
  const { message } = await a.send(conversation.id, { content: 'popular' });
  for (let i = 0; i < MAX_REACTIONS_PER_USER; i++) await a.react(conversation.id, message.id, `a${i}`);
  await t.rejects(a.react(conversation.id, message.id, 'one more'), { code: 'bad_request', details: { field: 'reaction' } }, 'past the per-user bound');
  t.same(await a.react(conversation.id, message.id, 'a0'), {}, 'repeating one already there is still fine at the bound');
  await a.unreact(conversation.id, message.id, 'a0');
  t.same(await a.react(conversation.id, message.id, 'a-new'), {}, 'removing one makes room');

  // Everyone else fills the message up to its distinct bound (alice already has 10 distinct ones).
  const clients = await Promise.all(others.map((u) => n.connect(u)));
  for (const [k, c] of clients.entries()) {
    if (k === clients.length - 1) break;
    for (let i = 0; i < MAX_REACTIONS_PER_USER; i++) await c.react(conversation.id, message.id, `u${k}-${i}`);
  }
  const last = clients[clients.length - 1]!;
  await t.rejects(last.react(conversation.id, message.id, 'brand new'), { code: 'bad_request', details: { field: 'reaction' } }, 'a new distinct reaction past the per-message bound');
  t.same(await last.react(conversation.id, message.id, 'a1'), {}, 'joining an existing reaction is fine at the bound');
  const seen = (await last.history(conversation.id)).messages[0]!.reactions;
  t.equal(seen.length, MAX_REACTIONS_PER_MESSAGE, 'the summary holds the bound exactly');
  t.match(seen.find((r) => r.reaction === 'a1'), { count: 2, me: true });
  t.equal(a.hello.limits.max_reactions_per_user, MAX_REACTIONS_PER_USER, 'announced in hello');
  t.equal(a.hello.limits.max_reactions_per_message, MAX_REACTIONS_PER_MESSAGE, 'announced in hello');
  t.equal(a.hello.limits.max_reaction_length, 10, 'announced in hello');
});

t.test('reactions name a message of this conversation that is not a tombstone', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const other = (await a.direct(carol)).conversation;
  const elsewhere = (await a.send(other.id, { content: 'in another conversation' })).message;
  const { message } = await a.send(conversation.id, { content: 'here' });

  await t.rejects(a.react(conversation.id, elsewhere.id, '👍'), { code: 'not_found' }, 'a message of another conversation of mine');
  await t.rejects(a.unreact(conversation.id, elsewhere.id, '👍'), { code: 'not_found' }, 'unreact too');
  await t.rejects(a.react(conversation.id, randomUUID(), '👍'), { code: 'not_found' }, 'no such message');
  t.same((await a.history(other.id)).messages[0]?.reactions, [], 'nothing landed on the other conversation');

  await a.react(conversation.id, message.id, '👍');
  // msg.delete is built elsewhere: make it a tombstone as the seed does, straight in PostgreSQL.
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  await db.query(`UPDATE messages SET is_deleted = true, delete_for_everyone = true, content = '\\x'::bytea, metadata = '{}' WHERE id = $1`, [message.id]);
  await t.rejects(a.react(conversation.id, message.id, '🎉'), { code: 'bad_request', details: { field: 'message_id' } }, 'a tombstone takes no new reaction');
  t.same((await a.history(conversation.id)).messages[0]?.reactions, [], 'a tombstone shows no reactions');
  t.same(await a.unreact(conversation.id, message.id, '👍'), {}, 'removing from a tombstone is allowed');
});
