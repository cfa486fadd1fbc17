import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('a retried send is a duplicate; a different message with the same client_random is a conflict', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const other = (await a.direct(carol)).conversation;

  const first = await a.send(conversation.id, { content: 'once', clientRandom: 42 });
  const retry = await a.send(conversation.id, { content: 'once', clientRandom: 42 });
  t.same(retry.message, first.message, 'the retry answers with the first ack');
  t.equal(retry.duplicate, true);

  await t.rejects(a.send(conversation.id, { content: 'something else', clientRandom: 42 }), { code: 'conflict' });
  await t.rejects(a.send(other.id, { content: 'once', clientRandom: 42 }), { code: 'conflict' }, 'same client_random in another conversation');

  const next = await a.send(conversation.id, { content: 'next', clientRandom: 43 });
  t.equal(next.message.seq, 2, 'duplicates and conflicts consume no seq');

  // Concurrent identical sends: one message, the others duplicates.
  const burst = await Promise.all(Array.from({ length: 10 }, () => a.send(conversation.id, { content: 'burst', clientRandom: 7 })));
  t.equal(new Set(burst.map((b) => b.message.id)).size, 1);
  t.equal(burst.filter((b) => b.duplicate !== true).length, 1);

  // After the actor has forgotten (a fresh node on the same database), PostgreSQL still knows.
  const b2 = await n.connect(alice);
  const again = await b2.send(conversation.id, { content: 'once', clientRandom: 42 });
  t.equal(again.duplicate, true);

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const rows = await db.query('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.same(rows.rows.map((r: { seq: string }) => Number(r.seq)), [1, 2, 3]);
  t.ok(WhisprRequestError);
});
