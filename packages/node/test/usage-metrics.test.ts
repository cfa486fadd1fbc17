// usage_metrics snapshots (seed §13.1) with the p95 delivery latency the nodes measured.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { deliveryLatencyKey } from '@whispr/store';
import { startTestNode } from './helpers/test-node.ts';
import { finished, sqlClient, startMaintenance } from './helpers/maintenance.ts';

t.test('the usage run writes a usage_metrics row whose p95 comes from the nodes’ delivery figures', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = await sqlClient(t, n);
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  for (let i = 0; i < 20; i++) await a.send(conversation.id, { content: Buffer.from('0123456789') });
  // The shards flush their histograms every 5 s.
  const minute = Math.floor(Date.now() / 60_000);
  const deadline = Date.now() + 15_000;
  let measured = 0;
  while (Date.now() < deadline) {
    const hashes = await Promise.all([minute - 1, minute, minute + 1].map((m) => n.redis.hgetall(deliveryLatencyKey(n.redisPrefix, m))));
    measured = hashes.flatMap((h) => Object.values(h)).reduce((sum, v) => sum + Number(v), 0);
    if (measured >= 20) break;
    await sleep(250);
  }
  t.equal(measured, 20, 'every message’s delivery was measured and published to Redis');

  const jobs = startMaintenance(t, n);
  const [jobId] = await jobs.schedule(Date.now(), ['usage']);
  t.equal(await finished(jobs, jobId ?? ''), 'completed', 'the run completed');
  const { rows } = await db.query<{ messages_sent_1h: number; total_conversations: number; total_users: number; active_users_24h: number; avg_message_size_bytes: number; p95_message_delivery_ms: number }>(
    'SELECT * FROM usage_metrics');
  t.equal(rows.length, 1, 'one snapshot');
  t.match(rows[0], { messages_sent_1h: 20, total_conversations: 1, total_users: 2, active_users_24h: 1, avg_message_size_bytes: 10 }, 'counts from PostgreSQL');
  const p95 = rows[0]?.p95_message_delivery_ms ?? 0;
  t.ok(p95 >= 1 && p95 <= 30_000, `a p95 from the measured histogram (${p95} ms)`);
});
