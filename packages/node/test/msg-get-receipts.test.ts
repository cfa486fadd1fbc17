import t from 'tap';
import { checkMatrix, matrixSetup, SECRET_TEXT } from './helpers/message-matrix.ts';

t.test('msg.get returns one message of the conversation; msg.receipts its statuses per recipient', async (t) => {
  const s = await matrixSetup(t);
  const got = await s.b.getMessage(s.group, s.message.id);
  t.equal(got.message.id, s.message.id);
  t.equal(got.message.seq, s.message.seq);
  t.equal(Buffer.from(got.message.content).toString(), SECRET_TEXT);
  t.same(got.message.metadata, { secret: SECRET_TEXT });
  t.same(got.message.attachments, []);
  t.equal(got.message.is_deleted, false);

  let receipts = await s.a.receipts(s.group, s.message.id);
  t.same(receipts.receipts.map((r) => r.user_id).sort(), [s.bob, s.dave].sort(), 'one status per recipient at send time; the sender has none');
  t.ok(receipts.receipts.every((r) => r.delivered_at === null && r.read_at === null));

  await s.b.markRead(s.group, s.message.seq);
  receipts = await s.b.receipts(s.group, s.message.id);
  const bobs = receipts.receipts.find((r) => r.user_id === s.bob);
  t.ok(bobs?.read_at && bobs.delivered_at, 'read implies delivered');
  t.equal(receipts.receipts.find((r) => r.user_id === s.dave)?.read_at, null);

  await checkMatrix(t, s, (c, conversationId, messageId) => c.getMessage(conversationId, messageId), { senderOnly: false });
  await checkMatrix(t, s, (c, conversationId, messageId) => c.receipts(conversationId, messageId), { senderOnly: false });
});
