import { randomUUID } from 'node:crypto';
import t from 'tap';
import { checkMatrix, codeOf, matrixSetup, type MatrixSetup } from './helpers/message-matrix.ts';

/** reply_to_id look-ups the actors could not answer from memory, once the shard's stats (every second) have reported them. */
async function lookups(s: MatrixSetup): Promise<number> {
  await new Promise((r) => setTimeout(r, 1300));
  const metric = await s.n.node.gateway.metrics.shardReplyLookups.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** Another conversation takes the shard's only actor place: the group's memory goes with its actor. */
const evictGroup = async (s: MatrixSetup): Promise<void> => {
  await s.a.direct(randomUUID());
};

t.test('reply_to_id names a message of the same conversation, checked from the actor’s memory when it knows the id', async (t) => {
  const s = await matrixSetup(t);
  const m1 = (await s.a.send(s.group, { content: 'question' })).message;
  const base = await lookups(s);

  const r1 = (await s.b.send(s.group, { content: 'answer', replyToId: m1.id })).message;
  t.equal((await s.a.getMessage(s.group, r1.id)).message.reply_to_id, m1.id, 'stored with its reply_to_id');
  await s.a.send(s.group, { content: 'reply to a reply', replyToId: r1.id });
  t.equal(await lookups(s), base, 'replies to messages the actor committed: no look-up');

  await evictGroup(s);
  await s.b.history(s.group);
  await s.b.send(s.group, { content: 'reply to what history showed', replyToId: s.message.id });
  t.equal(await lookups(s), base, 'a message the actor served in a read: no look-up');

  await evictGroup(s);
  await s.b.send(s.group, { content: 'reply to an old one', replyToId: s.message.id });
  t.equal(await lookups(s), base + 1, 'unknown to a fresh actor: one look-up');
  await s.b.send(s.group, { content: 'again', replyToId: s.message.id });
  t.equal(await lookups(s), base + 1, 'then remembered');

  t.equal(await codeOf(t, s.b.send(s.group, { content: 'x', replyToId: s.otherMessage.id })), 'not_found', 'a message of another conversation: not_found');
  t.equal(await codeOf(t, s.b.send(s.group, { content: 'x', replyToId: randomUUID() })), 'not_found', 'no such message: not_found');
  t.equal(await codeOf(t, s.b.send(s.group, { content: 'x', replyToId: s.otherMessage.id })), 'not_found', 'still not_found when asked again (never remembered)');

  await checkMatrix(t, s, (c, conversationId, messageId) => c.send(conversationId, { content: 'hostile reply', replyToId: messageId }), { senderOnly: false });
  const history = await s.a.history(s.group, { limit: 200 });
  t.notOk(history.messages.some((m) => Buffer.from(m.content).toString() === 'hostile reply'), 'no refused reply was stored');
});
