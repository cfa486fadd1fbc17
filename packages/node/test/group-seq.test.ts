import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import type { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('5 senders pipelining into one group produce seqs exactly 1..N', async (t) => {
  const n = await startTestNode(t);
  const users = Array.from({ length: 5 }, () => randomUUID());
  const clients: WhisprClient[] = [];
  for (const [i, u] of users.entries()) clients.push(await n.connect(u, i % 2 === 0 ? 'json' : 'msgpack'));
  const { conversation } = await clients[0]!.group(users.slice(1), { name: 'five' });
  t.equal(conversation.members.find((m) => m.user_id === users[0])?.role, 'admin');

  const perSender = 200;
  const acks = await Promise.all(
    clients.map((c, s) => Promise.all(Array.from({ length: perSender }, (_, i) => c.send(conversation.id, { content: `s${s} m${i}` })))),
  );
  const seqs = acks.flat().map((a) => a.message.seq).sort((x, y) => x - y);
  const N = 5 * perSender;
  t.same(seqs, Array.from({ length: N }, (_, i) => i + 1), 'acked seqs are exactly 1..N');

  // Per sender, seqs follow the order sent (requests on one connection take effect in order).
  for (const list of acks) {
    const s = list.map((a) => a.message.seq);
    t.same(s, [...s].sort((x, y) => x - y), 'one sender’s messages are ordered as sent');
  }

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const stored = await db.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.same(stored.rows.map((r) => Number(r.seq)), Array.from({ length: N }, (_, i) => i + 1), 'stored exactly once, gap-free');
  const statuses = await db.query<{ n: string }>('SELECT count(*) AS n FROM delivery_statuses ds JOIN messages m ON m.id = ds.message_id WHERE m.conversation_id = $1', [conversation.id]);
  t.equal(Number(statuses.rows[0]!.n), N * 4, 'a delivery status per recipient');
  const conv = await clients[1]!.get(conversation.id);
  t.equal(conv.conversation.last_seq, N);
});
