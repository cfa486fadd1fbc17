// A node paused (SIGSTOP) past its grace with writes queued for conversations it
// owns; the others take them over; then it is continued (SIGCONT). DESIGN.md
// invariant 1 and "Fencing": none of the paused node's queued writes may commit
// once another node has taken the conversation, and no seq is duplicated or forked.
//
// Writes are queued deterministically rather than by luck: the test holds the
// conversations' rows locked, so the paused node's first batch per shard waits
// inside PostgreSQL and the rest wait in its writers' memory; the lock is let go
// once the node is stopped (that first batch commits then, before any takeover,
// which is allowed). Node 1 runs two shards: the conversations of its shard #0
// get new writes from their new owner before node 1 resumes (the seq key alone
// refuses the stale batch: the new owner used those seqs), those of shard #1
// are only read by their new owner (it loaded them: it owns them), so only an
// ownership fence can refuse the stale batch.
//
// Until the ownership fence (owner_epoch, packages/store migration 0007) is in
// this checkout's schema, the "nothing committed after the takeover" assertion
// is a TODO: it is reported (with the figures) but does not fail the run.
// WHISPR_TEST_STRICT_FENCE=1 makes it count anyway.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { directConversationId } from '@whispr/store';
import { WhisprRequestError } from '@whispr/client';
import { startProcessCluster, waitUntil, type ProcessCluster } from './helpers/process-cluster.ts';
import { gaplessProblems, storedRows, type StoredRow } from './helpers/stored.ts';

const PER_CONVERSATION = 3;
const QUEUED_PER_CONVERSATION = 20;

/** Retries `unavailable` (and a forward timeout) until the call succeeds or `ms` pass. */
async function retrying<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const retryable = (err instanceof WhisprRequestError && err.retryable) || (err instanceof Error && err.name === 'WhisprTimeoutError');
      if (!retryable || Date.now() > deadline) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      await sleep(100);
    }
  }
}

async function hasFence(c: ProcessCluster): Promise<boolean> {
  const r = await c.pg.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'conversations' AND column_name = 'owner_epoch'`);
  return (r.rowCount ?? 0) > 0;
}

/** Backends of node-1's shard writers, by state. */
async function writerBackends(c: ProcessCluster): Promise<{ waitingOnLock: number; active: number }> {
  const r = await c.pg.query<{ waiting: string; active: string }>(
    `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting, count(*) FILTER (WHERE state = 'active') AS active
       FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'whispr node-1#%writer'`,
  );
  return { waitingOnLock: Number(r.rows[0]?.waiting ?? 0), active: Number(r.rows[0]?.active ?? 0) };
}

t.test('SIGSTOP past the grace with writes queued, takeover, SIGCONT: the stale writes never commit', async (t) => {
  const c = await startProcessCluster(t, { nodes: 3, workers: [2, 0, 0] });
  const fenced = (await hasFence(c)) || process.env.WHISPR_TEST_STRICT_FENCE === '1';
  const ring = await c.ringView();
  const paused = c.nodes[0];
  if (!paused) throw new Error('no node 1');

  // One sender u, direct conversations with fresh users: three on each of node-1's shards.
  const u = randomUUID();
  const written: string[] = [];
  const readOnly: string[] = [];
  const peers = new Map<string, string>();
  while (written.length < PER_CONVERSATION || readOnly.length < PER_CONVERSATION) {
    const v = randomUUID();
    const id = directConversationId(u, v);
    const slot = ring.ring.ownerOf(id);
    const list = slot === 'node-1#0' ? written : slot === 'node-1#1' ? readOnly : null;
    if (list && list.length < PER_CONVERSATION) {
      list.push(id);
      peers.set(id, v);
    }
  }
  const all = [...written, ...readOnly];
  const onPaused = await c.connect(u, 0, 60_000);
  const onOther = await c.connect(u, 1);
  t.teardown(async () => {
    await Promise.race([Promise.all([onPaused.close(), onOther.close()]), sleep(2000, undefined, { ref: false })]);
  });
  for (const id of all) {
    await onPaused.direct(peers.get(id) ?? '');
    await onPaused.send(id, { content: 'warm-up', clientRandom: 1 + all.indexOf(id) });
  }

  // Hold the rows: node-1's next batch per shard waits inside PostgreSQL.
  const lock = await c.pg.connect();
  let lockHeld = true;
  t.teardown(async () => {
    if (lockHeld) await lock.query('ROLLBACK').catch(() => undefined);
    lock.release();
  });
  await lock.query('BEGIN');
  await lock.query('SELECT 1 FROM conversations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [all]);
  const outcomes: Promise<string>[] = [];
  const sendOnPaused = (id: string, clientRandom: number): void => {
    outcomes.push(onPaused.send(id, { content: `q${clientRandom}`, clientRandom }).then(
      (r) => `acked seq ${r.message.seq}`,
      (err: unknown) => (err instanceof WhisprRequestError ? err.code : err instanceof Error ? err.name : 'error'),
    ));
  };
  for (const id of all) sendOnPaused(id, 50 + all.indexOf(id));
  await waitUntil('both of node-1’s shard writers wait on the lock', async () => (await writerBackends(c)).waitingOnLock >= 2, 15_000);
  // These queue behind the waiting batch, in node-1's memory: the writes that must never commit late.
  const queuedRandoms = new Set<number>();
  for (const id of all) {
    for (let i = 0; i < QUEUED_PER_CONVERSATION; i++) {
      const clientRandom = 100 + all.indexOf(id) * QUEUED_PER_CONVERSATION + i;
      queuedRandoms.add(clientRandom);
      sendOnPaused(id, clientRandom);
    }
  }
  await waitUntil('node-1’s writers hold the queued writes', async () => {
    const m = await c.metrics(0);
    return ['node-1#0', 'node-1#1'].every((slot) => (m.get(`whispr_shard_writer_queued{slot="${slot}"}`) ?? 0) >= PER_CONVERSATION * QUEUED_PER_CONVERSATION);
  }, 15_000, 200);

  paused.signal('SIGSTOP');
  const stoppedAt = Date.now();
  await lock.query('COMMIT');
  lockHeld = false;
  await waitUntil('the batch that waited on the lock has finished', async () => (await writerBackends(c)).active === 0, 15_000);
  const beforeTakeover = await storedRows(c.pg, all);

  await c.converged(2, c.graceMs + 20_000, [1, 2]);
  const droppedAfterMs = Date.now() - stoppedAt;
  const takeoverAcks: { id: string; seq: number; conversationId: string }[] = [];
  for (const id of written) {
    for (let i = 0; i < 3; i++) {
      const r = await retrying(`send to ${id} on its new owner`, 15_000, () => onOther.send(id, { content: `new owner ${i}`, clientRandom: 10_000 + all.indexOf(id) * 10 + i }));
      takeoverAcks.push({ id: r.message.id, seq: r.message.seq, conversationId: id });
    }
  }
  for (const id of readOnly) await retrying(`history of ${id} on its new owner`, 15_000, () => onOther.history(id));
  const takenOverAt = Date.now();

  paused.signal('SIGCONT');
  await waitUntil('node-1 has worked off its queued writes', async () => {
    const m = await c.metrics(0).catch(() => new Map<string, number>());
    return ['node-1#0', 'node-1#1'].every((slot) => m.get(`whispr_shard_writer_queued{slot="${slot}"}`) === 0);
  }, 30_000, 200);
  await sleep(1000);
  const after = await storedRows(c.pg, all);

  const known = new Set(beforeTakeover.map((r) => r.id));
  const late = (ids: string[]): StoredRow[] => after.filter((r) => ids.includes(r.conversation_id) && !known.has(r.id) && r.sender_id === u && queuedRandoms.has(r.client_random));
  const lateWritten = late(written);
  const lateReadOnly = late(readOnly);
  const told = await Promise.all(outcomes);
  const tally = told.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.startsWith('acked') ? 'acked' : o]: (acc[o.startsWith('acked') ? 'acked' : o] ?? 0) + 1 }), {});
  t.comment(`node-1 paused at +0 s, dropped by the others after ${(droppedAfterMs / 1000).toFixed(2)} s (grace ${c.graceMs} ms), taken over by +${((takenOverAt - stoppedAt) / 1000).toFixed(2)} s, continued then`);
  t.comment(`queued on node-1 when paused: ${queuedRandoms.size} writes; committed after the takeover: ${lateWritten.length} in conversations the new owner wrote to, ${lateReadOnly.length} in conversations it only read; what node-1's client heard: ${JSON.stringify(tally)}`);

  t.same(gaplessProblems(after), [], 'per conversation the seqs are exactly 1..N: no duplicate, no fork');
  const byId = new Map(after.map((r) => [r.id, r]));
  t.same(takeoverAcks.filter((a) => byId.get(a.id)?.seq !== a.seq), [], 'every write the new owner acknowledged is stored with its seq');
  t.same(lateWritten.map((r) => `${r.conversation_id} seq ${r.seq}`), [], 'no queued write of the paused node committed in a conversation the new owner wrote to');
  const todo = fenced ? false : 'ownership fencing has not landed in this checkout (no conversations.owner_epoch): a paused node’s queued writes still commit after another node loaded the conversation';
  t.same(lateReadOnly.map((r) => `${r.conversation_id} seq ${r.seq}`), [], 'no queued write of the paused node committed in a conversation the new owner had taken over (loaded) without writing', { todo });

  // Whoever owns them now (node-1 is back in the ring), every conversation takes writes again.
  for (const id of all) await retrying(`a send to ${id} after SIGCONT`, 20_000, () => onOther.send(id, { content: 'after', clientRandom: 20_000 + all.indexOf(id) }));
  t.same(gaplessProblems(await storedRows(c.pg, all)), [], 'and after one more send each, seqs still 1..N');
});
