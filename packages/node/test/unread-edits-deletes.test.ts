import t from 'tap';
import { matrixSetup } from './helpers/message-matrix.ts';

t.test('unread counts through edits and deletes', async (t) => {
  const s = await matrixSetup(t);
  const unread = async (who: typeof s.a): Promise<number | undefined> =>
    (await who.list()).conversations.find((c) => c.conversation.id === s.group)?.unread_count;
  // Alice's setup message is unread for bob.
  const ms = [];
  for (let i = 0; i < 4; i++) ms.push((await s.a.send(s.group, { content: `m${i}` })).message);
  t.equal(await unread(s.b), 5);
  await s.a.editMessage(s.group, ms[0]!.id, { content: 'edited' });
  t.equal(await unread(s.b), 5, 'an edit changes nothing');
  await s.a.deleteMessage(s.group, ms[1]!.id);
  t.equal(await unread(s.b), 5, 'deleted by its sender for themselves: still unread for the others');
  await s.a.deleteMessage(s.group, ms[2]!.id, { forEveryone: true });
  t.equal(await unread(s.b), 4, 'a tombstone is not unread');
  await s.db.query(
    `INSERT INTO messages (id, conversation_id, seq, sender_id, message_type, content, metadata, client_random, sent_at)
     VALUES (gen_random_uuid(), $1, 1000, $1, 'system', '\\x'::bytea, '{"action":"test"}', 1000, now())`,
    [s.group],
  );
  t.equal(await unread(s.b), 4, 'system messages are not counted');
  t.equal(await unread(s.a), 0, 'nothing of one’s own is unread');
  const fn = await s.db.query<{ n: number }>('SELECT count_unread_messages($1, $2) AS n', [s.bob, s.group]);
  t.equal(fn.rows[0]?.n, 4, 'the seed’s count_unread_messages agrees');
  await s.b.markRead(s.group, ms[3]!.seq);
  t.equal(await unread(s.b), 0);
});
