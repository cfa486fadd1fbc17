import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { ThreadShard } from '@whispr/actors';
import { WhisprRequestError, type WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

/** Sends until acknowledged, retrying `unavailable` with the same client_random as PROTOCOL.md allows. */
async function sendUntilAcked(c: WhisprClient, conversationId: string, content: string, clientRandom: number): Promise<{ seq: number; id: string; retries: number }> {
  for (let retries = 0; ; retries++) {
    try {
      const r = await c.send(conversationId, { content, clientRandom });
      return { seq: r.message.seq, id: r.message.id, retries };
    } catch (err) {
      if (!(err instanceof WhisprRequestError) || err.code !== 'unavailable' || retries > 50) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

t.test('a killed shard worker is replaced and no acknowledged message is missing', async (t) => {
  const n = await startTestNode(t, { limits: { send_burst: 5000, send_rate_per_s: 5000 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const owner = n.node.routing.ownerOf(conversation.id);
  const shard = owner?.kind === 'local' ? owner.shard : null;
  if (!(shard instanceof ThreadShard)) throw new Error('the conversation should be owned by a local worker-thread shard');

  const N = 600;
  const sends = Array.from({ length: N }, (_, i) => sendUntilAcked(a, conversation.id, `m${i}`, 1000 + i));
  await new Promise((r) => setTimeout(r, 30));
  await shard.killThread();
  const acks = await Promise.all(sends);
  t.ok(acks.some((x) => x.retries > 0) || true, 'some sends may have needed a retry');

  const seqs = acks.map((x) => x.seq).sort((x, y) => x - y);
  t.same(seqs, Array.from({ length: N }, (_, i) => i + 1), 'acked seqs are exactly 1..N');

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const rows = await db.query<{ id: string; seq: string }>('SELECT id, seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.equal(rows.rows.length, N, 'every message stored exactly once');
  const stored = new Map(rows.rows.map((r) => [r.id, Number(r.seq)]));
  for (const ack of acks) t.equal(stored.get(ack.id), ack.seq, 'the acknowledged id is stored at its seq');

  const after = await a.send(conversation.id, { content: 'after the crash' });
  t.equal(after.message.seq, N + 1, 'the replacement worker carries on the sequence');
});
