// A message changed after it was queued for an offline member (deleted for
// everyone, edited) leaves that member's queue: the old content is never
// delivered from it, and sync brings the message as it stands.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { MsgNewEvent } from '@whispr/protocol';
import { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('a delete for everyone or an edit removes the queued copy; sync has the tombstone and the edit', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const sent = [];
  for (let i = 1; i <= 3; i++) sent.push((await a.send(conversation.id, { content: `secret ${i}` })).message);
  const queueKey = `${n.redisPrefix}delivery:queue:{${bob}}`;
  for (let i = 0; i < 100 && (await n.redis.zcard(queueKey)) < 3; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await n.redis.zcard(queueKey), 3, 'three queued for bob');

  await a.deleteMessage(conversation.id, sent[0]!.id, { forEveryone: true });
  await a.editMessage(conversation.id, sent[2]!.id, { content: 'edited 3' });
  await a.deleteMessage(conversation.id, sent[1]!.id);
  for (let i = 0; i < 100 && (await n.redis.zcard(queueKey)) > 1; i++) await new Promise((r) => setTimeout(r, 20));
  const left = await n.redis.zrange(queueKey, '0', '-1');
  t.equal(left.length, 1, 'only the message deleted by its sender for themselves stays queued for bob');
  t.ok(left.every((m) => !m.includes(Buffer.from('secret 1').toString('base64'))), 'the tombstone’s old content is not in the queue');

  const got: MsgNewEvent[] = [];
  const b = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(bob) });
  t.teardown(() => b.close());
  b.on('msg.new', (ev) => got.push(ev));
  await new Promise((r) => setTimeout(r, 300));
  t.same(got.map((e) => e.message.seq), [2], 'the queue delivers only the unchanged message');
  const synced = await b.sync([{ conversation_id: conversation.id, after_seq: 0 }]);
  const messages = synced.conversations[0]!.messages;
  t.same(messages.map((m) => m.seq), [1, 2, 3], 'sync has every seq');
  t.match(messages[0], { is_deleted: true, delete_for_everyone: true }, 'seq 1 is a tombstone');
  t.equal(Buffer.from(messages[0]!.content).length, 0, 'with no content');
  t.equal(Buffer.from(messages[2]!.content).toString(), 'edited 3', 'seq 3 as edited');
});
