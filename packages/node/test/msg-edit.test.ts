import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { MsgEditedEvent } from '@whispr/protocol';
import { checkMatrix, codeOf, matrixSetup } from './helpers/message-matrix.ts';

t.test('msg.edit: the sender replaces content and metadata; msg.edited reaches every member', async (t) => {
  const s = await matrixSetup(t);
  const heardByBob = s.b.waitFor('msg.edited', (e) => e.message_id === s.message.id);
  const heardByAlice = s.a.waitFor('msg.edited', (e) => e.message_id === s.message.id);
  const before = Date.now();
  const { edited_at } = await s.a.editMessage(s.group, s.message.id, { content: 'edited text', metadata: { v: 2 } });
  t.ok(edited_at >= before - 1000 && edited_at <= Date.now() + 1000, 'edited_at is now');
  for (const [who, heard] of [['bob (msgpack)', heardByBob], ['alice (json)', heardByAlice]] as const) {
    const e: MsgEditedEvent = await heard;
    t.match(e, { conversation_id: s.group, message_id: s.message.id, seq: s.message.seq, metadata: { v: 2 }, edited_at }, `${who} heard it`);
    t.equal(Buffer.from(e.content).toString(), 'edited text', `${who}: the new content`);
  }
  const got = (await s.b.getMessage(s.group, s.message.id)).message;
  t.equal(Buffer.from(got.content).toString(), 'edited text');
  t.same(got.metadata, { v: 2 });
  t.equal(got.edited_at, edited_at, 'edited_at stored as answered');
  t.equal(got.seq, s.message.seq, 'same seq');
  const history = await s.b.history(s.group);
  t.equal(Buffer.from(history.messages.find((m) => m.id === s.message.id)!.content).toString(), 'edited text', 'history shows the edit');

  await s.a.editMessage(s.group, s.message.id, { content: 'no metadata' });
  t.same((await s.a.getMessage(s.group, s.message.id)).message.metadata, {}, 'omitted metadata is {}');

  // The limits of msg.send.
  const big = new Uint8Array(s.a.hello.limits.max_content_bytes + 1);
  t.equal(await codeOf(t, s.a.editMessage(s.group, s.message.id, { content: big })), 'too_large');
  t.equal(await codeOf(t, s.a.editMessage(s.group, s.message.id, { content: 'x', metadata: { pad: 'y'.repeat(s.a.hello.limits.max_metadata_bytes) } })), 'too_large');
  t.equal(Buffer.from((await s.a.getMessage(s.group, s.message.id)).message.content).toString(), 'no metadata', 'a refused edit changed nothing');

  await checkMatrix(t, s, (c, conversationId, messageId) => c.editMessage(conversationId, messageId, { content: 'hijack' }), { senderOnly: true });
  t.equal(Buffer.from((await s.a.getMessage(s.group, s.message.id)).message.content).toString(), 'no metadata', 'no refused caller changed it');
});

t.test('msg.edit refuses tombstones, messages hidden from the sender, and a blocked sender in a direct conversation', async (t) => {
  const s = await matrixSetup(t);
  const gone = (await s.a.send(s.group, { content: 'to delete' })).message;
  await s.a.deleteMessage(s.group, gone.id, { forEveryone: true });
  t.equal(await codeOf(t, s.a.editMessage(s.group, gone.id, { content: 'back' })), 'forbidden', 'a tombstone: forbidden');
  const hidden = (await s.a.send(s.group, { content: 'hide me' })).message;
  await s.a.deleteMessage(s.group, hidden.id);
  t.equal(await codeOf(t, s.a.editMessage(s.group, hidden.id, { content: 'x' })), 'not_found', 'deleted for oneself: not_found, as msg.get');

  // A system message: written as the service writes them (members ops are built elsewhere).
  const systemId = randomUUID();
  await s.db.query(
    `INSERT INTO messages (id, conversation_id, seq, sender_id, message_type, content, metadata, client_random, sent_at)
     VALUES ($1, $2, 1000, $2, 'system', '\\x'::bytea, '{"action":"test"}', 1000, now())`,
    [systemId, s.group],
  );
  t.equal(await codeOf(t, s.a.editMessage(s.group, systemId, { content: 'x' })), 'forbidden', 'a system message: forbidden');

  const direct = s.other;
  await s.db.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [s.carol, s.alice]);
  t.equal(await codeOf(t, s.a.editMessage(direct, s.otherMessage.id, { content: 'around the block' })), 'forbidden', 'blocked by the other member: forbidden');
  t.equal(await codeOf(t, s.a.deleteMessage(direct, s.otherMessage.id, { forEveryone: true })), 'ok', 'deleting is still allowed');
});
