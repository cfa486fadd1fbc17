import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import type { ReceiptEvent } from '@whispr/protocol';
import { startTestNode } from './helpers/test-node.ts';

t.test('receipts mark statuses, move last_read_at, notify members; conv.list shows unread counts', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  const direct = (await a.direct(bob)).conversation;
  const group = (await a.group([bob, carol], { name: 'trio' })).conversation;
  for (let i = 0; i < 3; i++) await a.send(direct.id, { content: `d${i}` });
  for (let i = 0; i < 4; i++) await a.send(group.id, { content: `g${i}` });
  await b.send(group.id, { content: 'from bob' });

  let list = await b.list();
  t.equal(list.conversations.length, 2);
  t.equal(list.conversations[0]!.conversation.id, group.id, 'most recently active first');
  t.equal(list.conversations[0]!.unread_count, 4, 'bob’s own message is not unread');
  t.equal(Buffer.from(list.conversations[0]!.last_message!.content).toString(), 'from bob');
  t.equal(list.conversations[1]!.unread_count, 3);

  const aliceHears = new Promise<ReceiptEvent>((resolve) => a.on('receipt', resolve));
  await b.markDelivered(direct.id, 3);
  const delivered = await aliceHears;
  t.match(delivered, { conversation_id: direct.id, user_id: bob, kind: 'delivered', up_to_seq: 3 });
  await b.markRead(direct.id, 2);

  list = await b.list();
  t.equal(list.conversations.find((c) => c.conversation.id === direct.id)?.unread_count, 1);
  const me = list.conversations.find((c) => c.conversation.id === direct.id)?.conversation.members.find((m) => m.user_id === bob);
  t.ok(me?.last_read_at, 'last_read_at moved');

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const rows = await db.query<{ seq: string; delivered: boolean; read: boolean }>(
    `SELECT m.seq, ds.delivered_at IS NOT NULL AS delivered, ds.read_at IS NOT NULL AS read
       FROM delivery_statuses ds JOIN messages m ON m.id = ds.message_id
      WHERE m.conversation_id = $1 AND ds.user_id = $2 ORDER BY m.seq`,
    [direct.id, bob],
  );
  t.same(rows.rows.map((r) => [Number(r.seq), r.delivered, r.read]), [[1, true, true], [2, true, true], [3, true, false]]);

  await b.markRead(direct.id, 1);
  t.pass('a receipt below the current one is accepted and changes nothing');
  const page = await b.list({ limit: 1 });
  t.equal(page.conversations.length, 1);
  t.ok(page.next);
  const rest = await b.list({ limit: 1, before: page.next });
  t.equal(rest.conversations[0]?.conversation.id, direct.id, 'the cursor pages on');
});

t.test('a repeated receipt is answered only once the first is committed', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  for (let round = 0; round < 20; round++) {
    const { message } = await a.send(conversation.id, { content: `m${round}` });
    const first = b.markRead(conversation.id, message.seq);
    await b.markRead(conversation.id, message.seq);
    const list = await b.list();
    t.equal(list.conversations[0]?.unread_count, 0, `round ${round}: the read is visible after the second reply`);
    await first;
  }
});
