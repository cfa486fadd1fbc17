import t from 'tap';
import { checkMatrix, codeOf, matrixSetup } from './helpers/message-matrix.ts';

t.test('msg.delete for oneself hides the message from its sender only; only the sender hears it', async (t) => {
  const s = await matrixSetup(t);
  const m = (await s.a.send(s.group, { content: 'regret' })).message;
  const later = (await s.a.send(s.group, { content: 'later' })).message;
  let bobHeard = 0;
  s.b.on('msg.deleted', () => bobHeard++);
  const aliceHears = s.a.waitFor('msg.deleted', (e) => e.message_id === m.id);
  t.same(await s.a.deleteMessage(s.group, m.id), {});
  t.same(await aliceHears, { ev: 'msg.deleted', conversation_id: s.group, message_id: m.id, seq: m.seq, for_everyone: false });

  // The sender: gone from msg.get, history, sync and conv.list's last message.
  t.equal(await codeOf(t, s.a.getMessage(s.group, m.id)), 'not_found');
  t.notOk((await s.a.history(s.group)).messages.some((x) => x.id === m.id), 'not in the sender’s history');
  const synced = (await s.a.sync([{ conversation_id: s.group, after_seq: 0 }])).conversations[0]!;
  t.notOk(synced.messages.some((x) => x.id === m.id), 'not in the sender’s sync');
  t.ok(synced.complete);
  t.equal(synced.last_seq, later.seq, 'sync still reaches last_seq');
  await s.a.deleteMessage(s.group, later.id);
  const lastForAlice = (await s.a.list()).conversations.find((c) => c.conversation.id === s.group)?.last_message;
  t.not(lastForAlice?.id, later.id, 'the sender’s conv.list skips it as last message');

  // The others: unchanged, not even flagged.
  const seen = (await s.b.getMessage(s.group, m.id)).message;
  t.equal(Buffer.from(seen.content).toString(), 'regret');
  t.equal(seen.is_deleted, false, 'others see the message as it was');
  t.ok((await s.b.history(s.group)).messages.some((x) => x.id === m.id));
  t.equal((await s.b.list()).conversations.find((c) => c.conversation.id === s.group)?.last_message?.id, later.id);
  t.equal(bobHeard, 0, 'bob heard no msg.deleted');

  // Idempotent; and a later delete for everyone still takes it from the others.
  t.same(await s.a.deleteMessage(s.group, m.id), {});
  const bobHears = s.b.waitFor('msg.deleted', (e) => e.message_id === m.id);
  t.same(await s.a.deleteMessage(s.group, m.id, { forEveryone: true }), {});
  t.match(await bobHears, { for_everyone: true });
  t.match((await s.b.getMessage(s.group, m.id)).message, { is_deleted: true, delete_for_everyone: true });

  await checkMatrix(t, s, (c, conversationId, messageId) => c.deleteMessage(conversationId, messageId), { senderOnly: true });
  t.equal((await s.a.getMessage(s.group, s.message.id)).message.is_deleted, false, 'no refused caller hid it');
});
