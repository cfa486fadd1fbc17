// The node keeps its shards' ownership lease (src/node.ts, from its membership): valid from its
// own heartbeat, a new generation when the ring changes (and the conversations'
// next requests claim again), revoked when the node stops.

import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { RedisKeys } from '@whispr/store';
import { DEFAULT_NODE_GRACE_MS } from '../src/config.ts';

/** The node's grace (the registry's lapse): a heartbeat older than it drops the node. */
const MEMBERSHIP_TIMING = { lapseMs: DEFAULT_NODE_GRACE_MS } as const;
import { startTestNode } from './helpers/test-node.ts';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

t.test('the lease follows the heartbeat and the ring; a ring change makes conversations claim again', async (t) => {
  const n = await startTestNode(t, { workers: 0 });
  const lease = n.node.ownership;
  t.ok(lease.isValid(), 'valid once the node has registered');
  const margin = lease.validUntil - Date.now();
  t.ok(margin > 0 && margin <= MEMBERSHIP_TIMING.lapseMs - MEMBERSHIP_TIMING.lapseMs / 3, `valid for at most two thirds of the lapse past the heartbeat (${margin} ms left)`);
  const renewedFrom = lease.validUntil;
  await until('a renewal', () => lease.validUntil > renewedFrom, 5_000);

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const epochOf = async (id: string): Promise<number> =>
    Number((await db.query<{ owner_epoch: string }>('SELECT owner_epoch FROM conversations WHERE id = $1', [id])).rows[0]?.owner_epoch);

  const a = await n.connect(randomUUID());
  const { conversation } = await a.direct(randomUUID());
  await a.send(conversation.id, { content: 'one' });
  t.equal(await epochOf(conversation.id), 1, 'created and written at epoch 1');

  // Another node joins the ring, then leaves it.
  const keys = new RedisKeys(n.redisPrefix);
  const other = `other-${randomUUID().slice(0, 6)}`;
  const generation = lease.generation;
  await n.redis.multi()
    .zadd(keys.nodes(), Date.now(), other)
    .hset(keys.node(other), 'status', 'active', 'last_heartbeat', String(Date.now()), 'host', '127.0.0.1', 'port', '1', 'slots', JSON.stringify([`${other}#0`]), 'incarnation', 'fake')
    .exec();
  await until('the ring to take the other node in', () => n.node.routing.ringSlots.includes(`${other}#0`));
  t.ok(lease.generation > generation, 'a new generation when the ring changed');
  const joined = lease.generation;
  await n.redis.multi().zrem(keys.nodes(), other).del(keys.node(other)).exec();
  await until('the ring to drop the other node', () => !n.node.routing.ringSlots.includes(`${other}#0`));
  t.ok(lease.generation > joined, 'and another when it changed back');

  const sent = await a.send(conversation.id, { content: 'two' });
  t.equal(sent.message.seq, 2);
  t.equal(await epochOf(conversation.id), 2, 'the conversation was claimed again (its memory may predate the changes)');
  await a.send(conversation.id, { content: 'three' });
  t.equal(await epochOf(conversation.id), 2, 'once');

  await n.node.stop();
  t.equal(lease.validUntil, 0, 'revoked when the node stops');
});
