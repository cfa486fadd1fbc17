// The ownership fence (fence.ts, migration 0007): two writers for one
// conversation, as two nodes would be after a paused owner resumes. Each
// "node" has its own pools and WriterSet; claims go through loadConversation.

import { randomUUID } from 'node:crypto';
import t from 'tap';
import { pino } from 'pino';
import type pg from 'pg';
import { BatchFailedError, BatchFencedError, type ReceiptRequest, type SendOutcome, type SendRequest, type SeqCounter } from '../src/batch-writer.ts';
import { insertConversation, loadConversation } from '../src/conversation-repo.ts';
import { checkFence, FENCE_SQLSTATE } from '../src/fence.ts';
import { createPgPool } from '../src/pg.ts';
import { createTestDatabase } from '../src/test-database.ts';
import { WriterSet } from '../src/writer-set.ts';

const db = await createTestDatabase('fence');
const logger = pino({ level: 'silent' });

interface FakeNode {
  name: string;
  /** Reads and claims (the shard's read pool). */
  reads: pg.Pool;
  writers: WriterSet;
}

const pools: pg.Pool[] = [];
const nodes: FakeNode[] = [];
function node(name: string): FakeNode {
  const reads = createPgPool({ connectionString: db.url, max: 2, applicationName: `fence-test ${name} reads`, logger });
  const writes = createPgPool({ connectionString: db.url, max: 2, applicationName: `fence-test ${name} writer`, logger, pipeline: true });
  pools.push(reads, writes);
  const n = { name, reads, writers: new WriterSet({ pool: writes, logger, writers: 1 }) };
  nodes.push(n);
  return n;
}
const a = node('a');
const b = node('b');
const admin = createPgPool({ connectionString: db.url, max: 3, applicationName: 'fence-test admin', logger });
pools.push(admin);
t.teardown(async () => {
  await Promise.all(nodes.map((n) => n.writers.close()));
  await Promise.all(pools.map((p) => p.end()));
  await db.drop();
});

/** What an actor is to the writer: its conversation's counter, with what the writer told it. */
class Counter implements SeqCounter {
  epoch = 0;
  lastSeq = 0;
  committedSeq = 0;
  invalidated = 0;
  fencedCount = 0;
  constructor(readonly conversationId: string) {}
  invalidate(): void {
    this.invalidated++;
  }
  fenced(): void {
    this.fencedCount++;
  }
}

const members = (): [string, string] => [randomUUID(), randomUUID()];

/** Created by node `n`'s actor: epoch 1, claimed by it. */
async function create(n: FakeNode, users: [string, string]): Promise<Counter> {
  const id = randomUUID();
  const client = await n.reads.connect();
  try {
    await client.query('BEGIN');
    await insertConversation(client, {
      id, type: 'group', externalGroupId: null, metadata: {}, createdAt: Date.now(), createdBy: users[0], owner: `${n.name}#0`,
      members: users.map((userId) => ({ userId, role: 'member' as const })),
    });
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const loaded = await loadConversation(n.reads, id, { heldEpoch: 1 });
  const counter = new Counter(id);
  counter.epoch = loaded?.epoch ?? -1;
  return counter;
}

/** Node `n` claims the conversation, as an actor loading it does. */
async function claim(n: FakeNode, id: string): Promise<Counter> {
  const loaded = await loadConversation(n.reads, id, { claimFor: `${n.name}#0` });
  if (!loaded) throw new Error('no such conversation');
  const counter = new Counter(id);
  counter.epoch = loaded.epoch;
  counter.lastSeq = loaded.maxSeq;
  counter.committedSeq = loaded.maxSeq;
  return counter;
}

let clientRandom = 1;
const send = (counter: Counter, users: [string, string], text = `m${clientRandom}`): SendRequest => ({
  counter, senderId: users[0], clientRandom: clientRandom++, type: 'text', content: new TextEncoder().encode(text),
  metadata: {}, replyToId: null, attachments: [], recipients: [users[1]],
});
const readReceipt = (counter: Counter, userId: string, upTo: number): ReceiptRequest => ({
  counter, userId, fromSeq: 0, toSeq: upTo, readToSeq: upTo, at: Date.now(),
});
const seqOf = (o: SendOutcome): number => (o.kind === 'stored' ? o.seq : -1);

async function storedSeqs(id: string): Promise<number[]> {
  const r = await admin.query<{ seq: number }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [id]);
  return r.rows.map((x) => x.seq);
}
async function ownerOf(id: string): Promise<{ owner_epoch: number; owner_node: string | null }> {
  const r = await admin.query<{ owner_epoch: number; owner_node: string | null }>('SELECT owner_epoch, owner_node FROM conversations WHERE id = $1', [id]);
  return r.rows[0] ?? { owner_epoch: -1, owner_node: null };
}

t.test('a created conversation starts at epoch 1, claimed by its creator; each claim is the next epoch', async (t) => {
  const users = members();
  const counter = await create(a, users);
  t.equal(counter.epoch, 1);
  t.same(await ownerOf(counter.conversationId), { owner_epoch: 1, owner_node: 'a#0' });
  const before = await admin.query<{ updated_at: number }>('SELECT updated_at FROM conversations WHERE id = $1', [counter.conversationId]);
  t.equal((await claim(b, counter.conversationId)).epoch, 2);
  t.same(await ownerOf(counter.conversationId), { owner_epoch: 2, owner_node: 'b#0' }, 'owner_node names the claimer');
  t.equal((await claim(a, counter.conversationId)).epoch, 3);
  const after = await admin.query<{ updated_at: number }>('SELECT updated_at FROM conversations WHERE id = $1', [counter.conversationId]);
  t.equal(after.rows[0]?.updated_at, before.rows[0]?.updated_at, 'a claim is not activity: updated_at stays');
  t.equal(await loadConversation(a.reads, randomUUID(), { claimFor: 'a#0' }), null, 'claiming a conversation that does not exist finds nothing');
});

t.test('after another node claims, the former owner commits nothing and the new one carries on gap-free', async (t) => {
  const users = members();
  const ca = await create(a, users);
  const first = await Promise.all([1, 2, 3].map(() => a.writers.send(send(ca, users))));
  t.same(first.map(seqOf), [1, 2, 3], 'the owner writes');

  const cb = await claim(b, ca.conversationId);
  t.equal(cb.epoch, 2, 'the new owner claims the next epoch');
  t.equal(cb.lastSeq, 3, 'and continues from the committed seqs');

  const fencedBefore = a.writers.stats.fencedBatches;
  const stale = await Promise.allSettled([a.writers.send(send(ca, users)), a.writers.send(send(ca, users))]);
  for (const r of stale) {
    t.equal(r.status, 'rejected');
    if (r.status === 'rejected') {
      t.ok(r.reason instanceof BatchFencedError, 'refused by the fence');
      t.ok(r.reason instanceof BatchFailedError, 'which the actor answers unavailable');
    }
  }
  t.equal(ca.fencedCount, 1, 'the counter was told it is fenced');
  t.equal(ca.lastSeq, 3, 'and the refused seqs were given back');
  t.equal(a.writers.stats.fencedBatches, fencedBefore + 1, 'one fenced batch counted');
  t.same(await storedSeqs(ca.conversationId), [1, 2, 3], 'nothing of the fenced batch was committed');

  // A batch of receipts only is fenced as well.
  await t.rejects(a.writers.receipt(readReceipt(ca, users[1], 3)), BatchFencedError, 'a receipts-only batch is fenced');
  const member = await admin.query<{ last_read_seq: number }>('SELECT last_read_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2', [ca.conversationId, users[1]]);
  t.equal(member.rows[0]?.last_read_seq, 0, 'the receipt was not applied');
  t.equal(ca.fencedCount, 2);

  const next = await Promise.all([b.writers.send(send(cb, users)), b.writers.send(send(cb, users))]);
  t.same(next.map(seqOf), [4, 5], 'the new owner continues the sequence');
  await b.writers.receipt(readReceipt(cb, users[1], 5));
  t.same(await storedSeqs(ca.conversationId), [1, 2, 3, 4, 5], 'seqs 1..5, no gap, no fork');
  const read = await admin.query<{ last_read_seq: number }>('SELECT last_read_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2', [ca.conversationId, users[1]]);
  t.equal(read.rows[0]?.last_read_seq, 5, 'the new owner’s receipt applied');
  t.equal(cb.fencedCount + cb.invalidated, 0, 'the new owner was never refused');
});

t.test('a batch mixing fenced and owned conversations commits the owned ones', async (t) => {
  const [u1, u2] = [members(), members()];
  const lost = await create(a, u1);
  const kept = await create(a, u2);
  await claim(b, lost.conversationId);
  const [x, y, z] = await Promise.allSettled([a.writers.send(send(lost, u1)), a.writers.send(send(kept, u2)), a.writers.receipt(readReceipt(kept, u2[1], 0))]);
  t.equal(x.status, 'rejected', 'the fenced conversation’s write fails');
  t.same(y.status === 'fulfilled' ? seqOf(y.value) : y.reason, 1, 'the owned conversation’s write commits, at seq 1');
  t.equal(z.status, 'fulfilled', 'and so does its receipt');
  t.equal(lost.fencedCount, 1);
  t.equal(kept.fencedCount + kept.invalidated, 0, 'the owned conversation’s counter is left alone');
  t.same(await storedSeqs(lost.conversationId), []);
  t.same(await storedSeqs(kept.conversationId), [1]);
});

t.test('inside a transaction (the rebuild after a conflict), the fence raises before anything is written', async (t) => {
  const users = members();
  const ca = await create(a, users);
  await claim(b, ca.conversationId);
  const client = await admin.connect();
  try {
    await client.query('BEGIN');
    await t.rejects(checkFence(client, [[ca.conversationId], [1]]), { code: FENCE_SQLSTATE, detail: ca.conversationId });
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    await t.resolves(checkFence(client, [[ca.conversationId], [2]]), 'the current epoch passes');
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }

  // The rebuild itself: a send meeting a stored (sender_id, client_random) it was not told about.
  const owned = await create(a, users);
  const taken = send(owned, users, 'first');
  await a.writers.send(taken);
  const again = await a.writers.send({ ...taken, content: new TextEncoder().encode('other content') });
  t.equal(again.kind, 'conflict', 'the transaction path (fence first, then the look-up) still classifies');
  t.same(await storedSeqs(owned.conversationId), [1]);
});

/** Waits until a backend of `application` waits for a lock (pg_stat_activity). */
async function waitForLockWait(application: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await admin.query<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
      [application],
    );
    const row = r.rows[0];
    if (row) return row.query;
    if (Date.now() > deadline) throw new Error(`${application} never waited for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('a claim made while the owner’s batch is in flight waits for it, then sees its commit', async (t) => {
  const users = members();
  const ca = await create(a, users);
  t.same((await Promise.all([a.writers.send(send(ca, users))])).map(seqOf), [1]);

  // Hold A's next batch after its fence: a third session locks the member row its receipt updates.
  const holder = await admin.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE', [ca.conversationId, users[1]]);
  const inFlight = Promise.all([a.writers.send(send(ca, users)), a.writers.receipt(readReceipt(ca, users[1], 1))]);
  t.match(await waitForLockWait('fence-test a writer'), /whispr_fence/, 'A’s one-statement batch is held (past its fence)');

  const claims = createPgPool({ connectionString: db.url, max: 1, applicationName: 'fence-test b claim', logger });
  t.teardown(() => claims.end());
  let claimed = false;
  const claiming = loadConversation(claims, ca.conversationId, { claimFor: 'b#0' }).then((loaded) => {
    claimed = true;
    return loaded;
  });
  t.match(await waitForLockWait('fence-test b claim'), /UPDATE conversations SET owner_epoch/, 'B’s claim waits for A’s batch');
  t.notOk(claimed, 'and has not returned');

  await holder.query('COMMIT');
  holder.release();
  const [sent] = await inFlight;
  t.equal(seqOf(sent), 2, 'A’s batch committed');
  const loaded = await claiming;
  t.equal(loaded?.epoch, 2, 'B claimed after it');
  t.equal(loaded?.maxSeq, 2, 'and B’s load sees A’s commit');
  t.equal(loaded?.members.find((m) => m.user_id === users[1])?.last_read_seq, 1, 'including its receipt');

  await t.rejects(a.writers.send(send(ca, users)), BatchFencedError, 'A is fenced from then on');
  const cb = new Counter(ca.conversationId);
  cb.epoch = loaded?.epoch ?? -1;
  cb.lastSeq = cb.committedSeq = loaded?.maxSeq ?? -1;
  t.equal(seqOf(await b.writers.send(send(cb, users))), 3, 'B writes seq 3');
  t.same(await storedSeqs(ca.conversationId), [1, 2, 3]);
});
