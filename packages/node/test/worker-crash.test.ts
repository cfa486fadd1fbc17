import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { ThreadShard } from '@whispr/actors';
import { WhisprRequestError, type WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

interface Ack {
  seq: number;
  id: string;
  /** How many times the send was answered `unavailable` and sent again. */
  retries: number;
  ackedAt: number;
}

/** Sends until acknowledged, retrying `unavailable` with the same client_random as PROTOCOL.md allows. */
async function sendUntilAcked(c: WhisprClient, conversationId: string, content: string, clientRandom: number): Promise<Ack> {
  for (let retries = 0; ; retries++) {
    try {
      const r = await c.send(conversationId, { content, clientRandom });
      return { seq: r.message.seq, id: r.message.id, retries, ackedAt: performance.now() };
    } catch (err) {
      if (!(err instanceof WhisprRequestError) || err.code !== 'unavailable' || retries > 50) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Backends of this database waiting for a table lock: the batch writes held up by the test's lock. */
async function waitingWriters(db: pg.Client): Promise<number[]> {
  const rows = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_locks
      WHERE NOT granted AND locktype = 'relation'
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows.rows.map((r) => r.pid);
}

t.test('a shard worker killed while sends are in flight is replaced, and no acknowledged message is missing', async (t) => {
  const n = await startTestNode(t, { limits: { send_burst: 5000, send_rate_per_s: 5000 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const owner = n.node.routing.ownerOf(conversation.id);
  const shard = owner?.kind === 'local' ? owner.shard : null;
  if (!(shard instanceof ThreadShard)) throw new Error('the conversation should be owned by a local worker-thread shard');

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const lock = new pg.Client({ connectionString: n.databaseUrl });
  await lock.connect();
  t.teardown(() => lock.end());

  // Acknowledged before the kill: these must survive it.
  const BEFORE = 100;
  const before = await Promise.all(Array.from({ length: BEFORE }, (_, i) => sendUntilAcked(a, conversation.id, `m${i}`, 1000 + i)));

  // Held in flight on purpose, rather than hoping a timer lands mid-batch: a lock
  // that conflicts with INSERT keeps the worker's batch waiting inside PostgreSQL,
  // so the kill is certain to find sends taken but not yet committed.
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE messages IN SHARE MODE');
  const IN_FLIGHT = 200;
  const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) => sendUntilAcked(a, conversation.id, `m${BEFORE + i}`, 1000 + BEFORE + i));
  let stuck: number[] = [];
  for (const deadline = Date.now() + 30_000; stuck.length === 0; ) {
    if (Date.now() > deadline) throw new Error('the worker never tried to write the in-flight sends');
    await new Promise((r) => setTimeout(r, 20));
    stuck = await waitingWriters(db);
  }

  const killedAt = performance.now();
  await shard.killThread();
  // The dead thread's statements still wait for the lock, and would commit once it goes:
  // PostgreSQL notices a vanished client only when it next writes to it. End them, so
  // the in-flight sends are stored through their retries alone (a statement of a dead
  // owner committing late is the fencing case, not this test's).
  await db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [stuck]);
  await lock.query('COMMIT');
  const after = await Promise.all(inFlight);

  t.ok(before.every((x) => x.retries === 0 && x.ackedAt < killedAt), `${BEFORE} sends were acknowledged before the kill`);
  t.ok(stuck.length > 0, `the kill found ${stuck.length} batch write(s) of the worker in flight`);
  t.ok(after.every((x) => x.ackedAt > killedAt), `${IN_FLIGHT} sends were acknowledged after the kill`);
  const retried = after.filter((x) => x.retries > 0).length;
  t.ok(retried > 0, `${retried} in-flight sends were answered unavailable and acknowledged on retry`);

  const acks = [...before, ...after];
  const N = BEFORE + IN_FLIGHT;
  const seqs = acks.map((x) => x.seq).sort((x, y) => x - y);
  t.same(seqs, Array.from({ length: N }, (_, i) => i + 1), 'acked seqs are exactly 1..N');

  const rows = await db.query<{ id: string; seq: string }>('SELECT id, seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  t.equal(rows.rows.length, N, 'every message stored exactly once');
  const stored = new Map(rows.rows.map((r) => [r.id, Number(r.seq)]));
  for (const ack of acks) t.equal(stored.get(ack.id), ack.seq, 'the acknowledged id is stored at its seq');

  const next = await a.send(conversation.id, { content: 'after the crash' });
  t.equal(next.message.seq, N + 1, 'the replacement worker carries on the sequence');
});
