import t from 'tap';
import type { MsgDeletedEvent } from '@whispr/protocol';
import { checkMatrix, codeOf, matrixSetup } from './helpers/message-matrix.ts';

t.test('msg.delete for everyone leaves a tombstone with the same id and seq, without attachments; every member hears it', async (t) => {
  const s = await matrixSetup(t);
  const media = { media_id: '00000000-0000-4000-8000-000000000001', media_type: 'image/png', metadata: { w: 10 } };
  const sent = (await s.a.send(s.group, { type: 'media', content: 'photo', metadata: { caption: 'x' }, attachments: [media] })).message;
  t.equal((await s.b.getMessage(s.group, sent.id)).message.attachments.length, 1);

  const heard = [s.a, s.b].map((c) => c.waitFor('msg.deleted', (e) => e.message_id === sent.id));
  t.same(await s.a.deleteMessage(s.group, sent.id, { forEveryone: true }), {});
  for (const e of await Promise.all(heard)) {
    t.same(e satisfies MsgDeletedEvent, { ev: 'msg.deleted', conversation_id: s.group, message_id: sent.id, seq: sent.seq, for_everyone: true });
  }
  for (const c of [s.a, s.b]) {
    const m = (await c.getMessage(s.group, sent.id)).message;
    t.match(m, { id: sent.id, seq: sent.seq, is_deleted: true, delete_for_everyone: true, metadata: {}, attachments: [] });
    t.equal(m.content.byteLength, 0, 'empty content');
    const inHistory = (await c.history(s.group)).messages.find((x) => x.id === sent.id);
    t.match(inHistory, { seq: sent.seq, is_deleted: true, attachments: [] }, 'the tombstone keeps its place in history');
    const synced = (await c.sync([{ conversation_id: s.group, after_seq: 0 }])).conversations[0]!.messages.find((x) => x.id === sent.id);
    t.match(synced, { is_deleted: true, delete_for_everyone: true }, 'and in sync');
  }
  const rows = await s.db.query('SELECT content, metadata FROM messages WHERE id = $1', [sent.id]);
  t.equal((rows.rows[0] as { content: Buffer }).content.byteLength, 0, 'the bytes are gone from PostgreSQL');
  t.equal((await s.db.query('SELECT 1 FROM message_attachments WHERE message_id = $1', [sent.id])).rowCount, 0, 'attachment rows removed');

  // Idempotent: again (either way) is ok and announces nothing.
  let extra = 0;
  s.b.on('msg.deleted', () => extra++);
  t.same(await s.a.deleteMessage(s.group, sent.id, { forEveryone: true }), {});
  t.same(await s.a.deleteMessage(s.group, sent.id), {});
  await s.a.getMessage(s.group, sent.id);
  t.equal(extra, 0, 'no second event');

  await checkMatrix(t, s, (c, conversationId, messageId) => c.deleteMessage(conversationId, messageId, { forEveryone: true }), { senderOnly: true });
  t.equal((await s.b.getMessage(s.group, s.message.id)).message.is_deleted, false, 'no refused caller deleted it');
});

t.test('an edit racing a delete: they apply one after the other, and the tombstone wins', async (t) => {
  const s = await matrixSetup(t);
  for (let round = 0; round < 5; round++) {
    const m = (await s.a.send(s.group, { content: `race ${round}` })).message;
    const events: string[] = [];
    const onEdited = (e: { message_id: string }): void => { if (e.message_id === m.id) events.push('edited'); };
    const onDeleted = (e: { message_id: string }): void => { if (e.message_id === m.id) events.push('deleted'); };
    s.b.on('msg.edited', onEdited).on('msg.deleted', onDeleted);
    const [edit, del] = await Promise.all([
      codeOf(t, s.a.editMessage(s.group, m.id, { content: 'late edit' })),
      codeOf(t, s.a.deleteMessage(s.group, m.id, { forEveryone: true })),
    ]);
    t.equal(del, 'ok');
    t.ok(edit === 'ok' || edit === 'forbidden', `round ${round}: the edit ran first or found the tombstone (${edit})`);
    const final = (await s.b.getMessage(s.group, m.id)).message;
    t.match(final, { is_deleted: true, delete_for_everyone: true, metadata: {} });
    t.equal(final.content.byteLength, 0, 'the edit did not resurrect content');
    await s.b.history(s.group);
    await new Promise((r) => setTimeout(r, 50));
    t.same(events, edit === 'ok' ? ['edited', 'deleted'] : ['deleted'], 'events in the order they applied');
    s.b.off('msg.edited', onEdited).off('msg.deleted', onDeleted);
  }
});
