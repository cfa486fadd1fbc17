// msg.pin / msg.unpin / conv.pins end to end: idempotent, listed most recent
// first with their messages as the viewer sees them, announced to members only
// when something changed, bounded per conversation.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { MAX_PINS, type PinEvent } from '@whispr/protocol';
import type { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

function pinsHeard(c: WhisprClient): PinEvent[] {
  const heard: PinEvent[] = [];
  c.on('pin', (ev) => heard.push(ev));
  return heard;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting: ${what}`);
}

t.test('pins: idempotent, conv.pins lists them, events to every connection of every member', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b1 = await n.connect(bob);
  const b2 = await n.connect(bob, 'msgpack');
  const c = await n.connect(carol);
  const { conversation } = await a.group([bob, carol]);
  const first = (await a.send(conversation.id, { content: 'first' })).message;
  const second = (await b1.send(conversation.id, { content: 'second' })).message;
  const [heardA, heardB1, heardB2, heardC] = [a, b1, b2, c].map(pinsHeard) as [PinEvent[], PinEvent[], PinEvent[], PinEvent[]];

  t.same(await a.pins(conversation.id), { pins: [] }, 'nothing pinned yet');
  t.same(await a.pin(conversation.id, first.id), {}, 'pin replies {}');
  t.same(await a.pin(conversation.id, first.id), {}, 'pinning again is fine');
  t.same(await c.pin(conversation.id, first.id), {}, 'pinning what another pinned is fine');
  const before = Date.now();
  await b2.pin(conversation.id, second.id);
  await c.react(conversation.id, second.id, '📌');

  for (const [name, heard] of [['alice', heardA], ['bob (json)', heardB1], ['bob (msgpack)', heardB2], ['carol', heardC]] as const) {
    await until(() => heard.length >= 2, `${name} hears two pins`);
    t.match(heard, [
      { ev: 'pin', conversation_id: conversation.id, message_id: first.id, user_id: alice, pinned: true },
      { ev: 'pin', conversation_id: conversation.id, message_id: second.id, user_id: bob, pinned: true },
    ], `${name}: one event per change`);
  }

  const listed = await c.pins(conversation.id);
  t.equal(listed.pins.length, 2);
  t.match(listed.pins[0], { pinned_by: bob, message: { id: second.id, seq: second.seq, sender_id: bob, reactions: [{ reaction: '📌', count: 1, me: true }] } }, 'most recently pinned first, message as the viewer sees it');
  t.match(listed.pins[1], { pinned_by: alice, message: { id: first.id, seq: first.seq } }, 'the first pin kept its pinner');
  t.equal(Buffer.from(listed.pins[1]!.message.content).toString(), 'first');
  t.ok(listed.pins[0]!.pinned_at >= before - 1000 && listed.pins[0]!.pinned_at <= Date.now() + 1000, 'pinned_at is a time in ms');
  t.equal((await a.pins(conversation.id)).pins[0]?.message.reactions[0]?.me, false, 'me is for the viewer');

  t.same(await c.unpin(conversation.id, first.id), {}, 'any member may unpin');
  t.same(await c.unpin(conversation.id, first.id), {}, 'unpinning what is not pinned is fine');
  await until(() => heardA.length >= 3, 'alice hears the unpin');
  await new Promise((r) => setTimeout(r, 200));
  t.match(heardA[2], { message_id: first.id, user_id: carol, pinned: false });
  t.equal(heardA.length, 3, 'no event for the repeats');
  t.same((await b1.pins(conversation.id)).pins.map((p) => p.message.id), [second.id]);
});

t.test('pins name a message of this conversation, not a tombstone, and are bounded', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  const other = (await a.direct(carol)).conversation;
  const elsewhere = (await a.send(other.id, { content: 'not here' })).message;
  await t.rejects(a.pin(conversation.id, elsewhere.id), { code: 'not_found' }, 'a message of another conversation');
  await t.rejects(a.unpin(conversation.id, elsewhere.id), { code: 'not_found' }, 'unpin too');
  await t.rejects(a.pin(conversation.id, randomUUID()), { code: 'not_found' }, 'no such message');
  t.same((await a.pins(other.id)).pins, [], 'nothing pinned in the other conversation');

  const ids: string[] = [];
  for (let i = 0; i < MAX_PINS + 1; i++) ids.push((await a.send(conversation.id, { content: `m${i}` })).message.id);
  for (let i = 0; i < MAX_PINS; i++) await (i % 2 ? a : b).pin(conversation.id, ids[i]!);
  await t.rejects(a.pin(conversation.id, ids[MAX_PINS]!), { code: 'bad_request', details: { field: 'message_id' } }, 'past the bound: bad_request');
  t.same(await a.pin(conversation.id, ids[0]!), {}, 'repeating a pin at the bound is fine');
  t.equal((await a.pins(conversation.id)).pins.length, MAX_PINS, 'conv.pins returns them all');
  t.equal(a.hello.limits.max_pins, MAX_PINS, 'announced in hello');

  // msg.delete is built elsewhere: tombstone one as the seed does, straight in PostgreSQL.
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const tombstone = `UPDATE messages SET is_deleted = true, delete_for_everyone = true, content = '\\x'::bytea, metadata = '{}' WHERE id = $1`;
  await db.query(tombstone, [ids[0]]);
  const afterDelete = (await a.pins(conversation.id)).pins;
  t.equal(afterDelete.length, MAX_PINS - 1, 'a pinned tombstone is not listed');
  t.notOk(afterDelete.some((p) => p.message.id === ids[0]));
  t.same(await a.pin(conversation.id, ids[MAX_PINS]!), {}, 'and does not count against the bound');
  await db.query(tombstone, [ids[MAX_PINS - 1]]);
  await t.rejects(a.pin(conversation.id, ids[MAX_PINS - 1]!), { code: 'bad_request', details: { field: 'message_id' } }, 'a tombstone cannot be pinned');
  t.same(await a.unpin(conversation.id, ids[0]!), {}, 'unpinning a tombstone is allowed');

  // Deleted by its sender for themselves alone: gone from the sender's conv.pins only.
  await db.query('UPDATE messages SET is_deleted = true, delete_for_everyone = false WHERE id = $1', [ids[MAX_PINS]]);
  t.notOk((await a.pins(conversation.id)).pins.some((p) => p.message.id === ids[MAX_PINS]), 'hidden from its sender');
  t.ok((await b.pins(conversation.id)).pins.some((p) => p.message.id === ids[MAX_PINS]), 'still pinned for the other member');
});
