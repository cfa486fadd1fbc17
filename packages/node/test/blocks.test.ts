// User blocks (user_blocks rows, written here as the user-service would): a row
// (blocker, blocked) stops the blocked user from opening or writing into the
// direct conversation with the blocker, and from putting the blocker in a group.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf, dbOf, sleep } from './helpers/members.ts';
import { WhisprRequestError } from '@whispr/client';

t.test('blocks', async (t) => {
  // Idle actors are evicted within ~2 s, so a block written under a loaded actor applies on its reload.
  const n = await startTestNode(t, { actorIdleMs: 300 });
  const db = await dbOf(t, n.databaseUrl);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  await db.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [alice, bob]);

  t.equal(await codeOf(b.direct(alice)), 'forbidden', 'the blocked user cannot open the direct conversation');
  const { conversation } = await a.direct(bob);
  t.pass('the blocker can');
  t.equal(await codeOf(b.direct(alice)), 'forbidden', 'nor get it once it exists');
  t.equal(await codeOf(b.send(conversation.id, { content: 'hi' })), 'forbidden', 'nor send into it');
  t.ok((await a.send(conversation.id, { content: 'hello' })).message.seq === 1, 'the blocker still writes');
  t.equal((await b.history(conversation.id)).messages.length, 1, 'the blocked user still reads');

  const groupRefused = await b.group([carol, alice]).then(() => null, (err: unknown) => err);
  t.ok(groupRefused instanceof WhisprRequestError && groupRefused.code === 'forbidden', 'conv.group naming the blocker is forbidden');
  t.match(groupRefused instanceof Error ? groupRefused.message : '', alice, 'naming the user');
  const { conversation: group } = await b.group([carol]);
  const addRefused = await b.addMembers(group.id, [alice]).then(() => null, (err: unknown) => err);
  t.ok(addRefused instanceof WhisprRequestError && addRefused.code === 'forbidden', 'adding the blocker is forbidden');
  t.match(addRefused instanceof Error ? addRefused.message : '', alice, 'naming the user');
  t.equal((await b.get(group.id)).conversation.last_seq, 0, 'nothing recorded');
  t.ok((await a.group([bob])).conversation.id, 'the blocker may put the blocked user in a group');

  // A block arriving while the conversation is live: applied once the actor reloads.
  const { conversation: carolAlice } = await a.direct(carol);
  await n.connect(carol).then((c) => c.send(carolAlice.id, { content: 'before' }));
  await db.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [alice, carol]);
  await sleep(2500);
  const c = await n.connect(carol);
  t.equal(await codeOf(c.send(carolAlice.id, { content: 'after' })), 'forbidden', 'the reloaded actor knows the new block');
  await db.query('DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2', [alice, carol]);
  await sleep(2500);
  t.equal(await codeOf(c.send(carolAlice.id, { content: 'unblocked' })), 'ok', 'and its removal');
});
