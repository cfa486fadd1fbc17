// A shard and its OwnershipLease (ownership-lease.ts): no lease, no claim and
// nothing served; a new generation makes the next request claim again; a
// fenced actor does not claim straight back. Real PostgreSQL and Redis; the
// shard runs here (a ShardHost, as an inline shard has), driven by raw frames.

import { randomBytes, randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { Redis } from 'ioredis';
import { DEFAULT_LIMITS } from '@whispr/protocol';
import { createTestDatabase } from '@whispr/store/testing';
import { FENCED_HOLDOFF_MS } from '../src/conversation-actor.ts';
import { ClusterView } from '../src/cluster-view.ts';
import { OwnershipLease } from '../src/ownership-lease.ts';
import { REPLY_STRIDE, type OutboxMessage, type ShardWorkerData, type StatsMessage } from '../src/shard-contract.ts';
import { ShardHost } from '../src/shard-host.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const db = await createTestDatabase('ownership');
const redisPrefix = `t:${randomBytes(6).toString('hex')}:`;
const lease = new OwnershipLease();
const slot = 'lease-test#0';
const data: ShardWorkerData = {
  slot, nodeId: 'lease-test', incarnation: 'test', clusterView: new ClusterView().buffer, databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix, limits: DEFAULT_LIMITS, logLevel: 'silent',
  pgPoolMax: 2, writers: 1, actorIdleMs: 60_000, maxActors: 1000, encodingsInUse: new SharedArrayBuffer(8), ownership: lease.buffer,
};

interface Reply {
  ok: boolean;
  error?: { code: string; message: string };
  [field: string]: unknown;
}
const waiting = new Map<number, (reply: Reply) => void>();
let lastStats: StatsMessage | null = null;
const host = new ShardHost(data, {
  outbox: (message: OutboxMessage) => {
    for (let i = 0; i < message.replies.length; i += REPLY_STRIDE) {
      const [serial = -1, , , off = 0, len = 0] = message.replies.slice(i, i + REPLY_STRIDE);
      waiting.get(serial)?.(JSON.parse(Buffer.from(message.buf, off, len).toString()) as Reply);
      waiting.delete(serial);
    }
  },
  stats: (message) => {
    lastStats = message;
  },
});
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const redis = new Redis(REDIS_URL);
t.teardown(async () => {
  await host.close();
  await sql.end();
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db.drop();
});

let serial = 0;
/** One frame through the shard, as the gateway hands it over (JSON). */
async function call(user: string, op: string, route: string, body: Record<string, unknown>): Promise<Reply> {
  const id = ++serial;
  const bytes = Buffer.from(JSON.stringify({ id, op, ...body }));
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  const reply = new Promise<Reply>((resolve) => waiting.set(id, resolve));
  await host.run({ buf, raw: [{ serial: id, conn: 1, user, caller: 'client', enc: 0, op: op as never, route, off: 0, len: bytes.byteLength }] });
  return reply;
}
let clientRandom = 1;
const sendTo = (user: string, conversationId: string): Promise<Reply> =>
  call(user, 'msg.send', conversationId, { conversation_id: conversationId, client_random: clientRandom++, type: 'text', content: Buffer.from('hi').toString('base64') });
const getConv = (user: string, conversationId: string): Promise<Reply> => call(user, 'conv.get', conversationId, { conversation_id: conversationId });

async function ownerOf(id: string): Promise<{ owner_epoch: number; owner_node: string | null } | undefined> {
  const r = await sql.query<{ owner_epoch: string; owner_node: string | null }>('SELECT owner_epoch, owner_node FROM conversations WHERE id = $1', [id]);
  const row = r.rows[0];
  return row && { owner_epoch: Number(row.owner_epoch), owner_node: row.owner_node };
}
async function seqs(id: string): Promise<number[]> {
  return (await sql.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [id])).rows.map((r) => Number(r.seq));
}
/** A conversation that exists in PostgreSQL but that this shard has never loaded. */
async function existing(users: string[]): Promise<string> {
  const id = randomUUID();
  await sql.query(`INSERT INTO conversations (id, type) VALUES ($1, 'group')`, [id]);
  await sql.query('INSERT INTO conversation_members (conversation_id, user_id) SELECT $1, u FROM unnest($2::uuid[]) AS u', [id, users]);
  return id;
}

const [alice, bob] = [randomUUID(), randomUUID()];

t.test('without a valid lease nothing is claimed or created; once renewed, it is', async (t) => {
  t.notOk(lease.isValid(), 'a new lease is not valid');
  const group = await call(alice, 'conv.group', randomUUID(), { user_ids: [bob] });
  t.equal(group.error?.code, 'unavailable', 'creating is claiming: refused');
  t.equal(Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM conversations')).rows[0]?.n), 0, 'nothing created');

  const id = await existing([alice, bob]);
  t.equal((await sendTo(alice, id)).error?.code, 'unavailable', 'a conversation is not loaded without a lease');
  t.same(await ownerOf(id), { owner_epoch: 0, owner_node: null }, 'and not claimed');

  lease.renew(Date.now() + 60_000);
  const sent = await sendTo(alice, id);
  t.equal(sent.ok, true, 'loads once the lease is renewed');
  t.same(await ownerOf(id), { owner_epoch: 1, owner_node: slot }, 'claimed by this shard');

  const created = await call(alice, 'conv.group', randomUUID(), { user_ids: [bob] });
  t.equal(created.ok, true);
  const createdId = (created['conversation'] as { id: string }).id;
  t.same(await ownerOf(createdId), { owner_epoch: 1, owner_node: slot }, 'a created conversation starts claimed, at epoch 1');
  t.equal((await sendTo(alice, createdId)).ok, true);
  t.equal((await ownerOf(createdId))?.owner_epoch, 1, 'its creator writes without claiming it again');
});

t.test('a lapsed lease serves nothing; renewing it starts a new generation, and loaded conversations are claimed again', async (t) => {
  lease.renew(Date.now() + 60_000);
  const id = await existing([alice, bob]);
  t.equal((await sendTo(alice, id)).ok, true);
  const epoch = (await ownerOf(id))?.owner_epoch ?? -1;
  const generation = lease.generation;

  lease.renew(Date.now() - 1);
  t.equal((await getConv(alice, id)).error?.code, 'unavailable', 'a loaded conversation is not served from memory past the lease');
  t.equal((await sendTo(alice, id)).error?.code, 'unavailable', 'nor written');

  lease.renew(Date.now() + 60_000);
  t.equal(lease.generation, generation + 1, 'renewing a lapsed lease is a new generation');
  t.equal((await getConv(alice, id)).ok, true);
  t.equal((await ownerOf(id))?.owner_epoch, epoch + 1, 'the next request claimed it again');
  t.same(await seqs(id), [1]);
});

t.test('a new generation makes the next request claim again, once', async (t) => {
  lease.renew(Date.now() + 60_000);
  const id = await existing([alice, bob]);
  t.equal((await sendTo(alice, id)).ok, true);
  const epoch = (await ownerOf(id))?.owner_epoch ?? -1;
  t.equal((await sendTo(alice, id)).ok, true);
  t.equal((await ownerOf(id))?.owner_epoch, epoch, 'same generation: no claim');

  lease.nextGeneration();
  const sent = await sendTo(alice, id);
  t.equal((sent['message'] as { seq: number }).seq, 3, 'the sequence carries on');
  t.equal((await ownerOf(id))?.owner_epoch, epoch + 1, 'claimed again under the new generation');
  t.equal((await getConv(alice, id)).ok, true);
  t.equal((await ownerOf(id))?.owner_epoch, epoch + 1, 'and only once');
});

t.test('a fenced actor answers unavailable and does not claim back within the generation', async (t) => {
  lease.renew(Date.now() + 60_000);
  const id = await existing([alice, bob]);
  t.equal((await sendTo(alice, id)).ok, true);

  // Another node takes the conversation (its actor's load).
  await sql.query(`UPDATE conversations SET owner_epoch = owner_epoch + 1, owner_node = 'other#0' WHERE id = $1`, [id]);
  const taken = (await ownerOf(id))?.owner_epoch ?? -1;
  const fenced = await sendTo(alice, id);
  t.equal(fenced.error?.code, 'unavailable', 'the stale owner’s write is refused (retry reaches the new owner)');
  t.same(await seqs(id), [1], 'and not stored');

  const again = await sendTo(alice, id);
  t.equal(again.error?.code, 'unavailable', 'the next request too');
  t.same(await ownerOf(id), { owner_epoch: taken, owner_node: 'other#0' }, 'without claiming it back');

  await new Promise((resolve) => setTimeout(resolve, FENCED_HOLDOFF_MS + 1100));
  t.ok(lastStats && (lastStats as StatsMessage).fencedBatches >= 1, 'fenced batches are in the shard’s stats');
  const later = await sendTo(alice, id);
  t.equal(later.ok, true, 'after the hold-off it may claim again');
  t.same(await ownerOf(id), { owner_epoch: taken + 1, owner_node: slot });
  t.same(await seqs(id), [1, 2], 'seqs stay gap-free');

  // Fenced again, then the ring changes: the new generation lifts the hold-off at once.
  await sql.query(`UPDATE conversations SET owner_epoch = owner_epoch + 1, owner_node = 'other#0' WHERE id = $1`, [id]);
  t.equal((await sendTo(alice, id)).error?.code, 'unavailable');
  lease.nextGeneration();
  t.equal((await sendTo(alice, id)).ok, true, 'a new generation may claim at once');
  t.same(await seqs(id), [1, 2, 3]);
});
