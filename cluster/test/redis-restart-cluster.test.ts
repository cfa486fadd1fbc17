// Redis restarted under load, empty (DESIGN.md "The cluster": a Redis restart is
// an ordinary membership event). Three node processes on a redis-server of the
// test's own: it is killed and started again on the same port with no keys. The
// nodes stop serving while their heartbeats cannot reach it, then re-register,
// re-form the ring and take sends again by themselves; nothing acknowledged is
// lost, and the events pub/sub dropped meanwhile come back with sync.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatLoad } from './helpers/chat-load.ts';
import { outageMs, secs, summarize } from './helpers/outage.ts';
import { startProcessCluster, sumMetric, waitUntil } from './helpers/process-cluster.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { ackProblems, gaplessProblems, storedRows } from './helpers/stored.ts';

/** A blip shorter than the nodes' lease, then an outage past the grace (every node stops serving). */
const OUTAGES_MS = [1000, 4500];

t.test('Redis restarted empty under load, twice', async (t) => {
  const redis = await startRedisServer();
  t.teardown(() => redis.stop());
  const c = await startProcessCluster(t, { nodes: 3, redisUrl: redis.url });
  const load = await ChatLoad.create(c, { senders: 6, receivers: 4, pauseMs: 150 });
  t.teardown(() => load.close());
  const ids = load.conversations.map((x) => x.id);
  load.start();
  await sleep(3000);

  for (const downMs of OUTAGES_MS) {
    const killedAt = Date.now();
    await redis.restart(downMs);
    const backAt = Date.now();
    await c.converged(3, 60_000);
    const ringBackMs = Date.now() - backAt;
    await waitUntil('every conversation is acknowledged after the restart', () => ids.every((id) => load.acks.some((a) => a.conversationId === id && a.ackedAt > backAt)), 60_000);
    const allBackMs = Date.now() - backAt;
    const registry = await c.ringView();
    t.equal(registry.nodeOfSlot.size, 3, `down ${downMs} ms: every node is in the new Redis’s registry again`);
    await sleep(2000);
    const outage = summarize(ids.map((id) => outageMs(load, id, killedAt)));
    const lastUnavailable = Math.max(0, ...load.unavailableAt.filter((at) => at > killedAt));
    t.comment(`last unavailable ${secs(lastUnavailable - backAt)} after Redis was back; unavailable since the kill ${load.unavailableAt.filter((at) => at > killedAt).length}`);
    t.comment(`Redis down ${secs(backAt - killedAt)} (killed, ${downMs} ms, started empty; grace ${c.graceMs} ms): ring re-formed on every node ${secs(ringBackMs)} after it was back, every conversation acknowledged again ${secs(allBackMs)} after; longest wait for an ack ${secs(outage.maxMs)} (median ${secs(outage.medianMs)}) counted from the kill`);
    t.ok(outage.maxMs < downMs + 30_000, `the cluster took sends again by itself (${secs(outage.maxMs)})`);
  }
  await load.stop();
  t.same(load.failures, [], 'no send failed for good');
  t.comment(`load: ${load.acks.length} acks; unavailable ${load.counters.unavailable}, timeouts ${load.counters.timeouts}, closed ${load.counters.closed}, reconnects ${load.counters.reconnects}`);
  const [unheard, notConnected, forwardTimeouts, failedBatches] = await Promise.all([
    sumMetric(c, 'whispr_bus_dropped{reason="unheard"}'), sumMetric(c, 'whispr_bus_dropped{reason="not_connected"}'),
    sumMetric(c, 'whispr_forward_timeouts_total'), sumMetric(c, 'whispr_shard_failed_batches'),
  ]);
  t.comment(`nodes' counters: bus payloads unheard ${unheard}, refused while down ${notConnected}; forward timeouts ${forwardTimeouts}; failed batches (seq key) ${failedBatches}`);

  const rows = await storedRows(c.pg, ids);
  t.same(gaplessProblems(rows), [], 'per conversation the seqs are exactly 1..N, no send stored twice');
  t.same(ackProblems(rows, load.acks, true), [], 'every ack is stored with its id and seq, and every stored message was acknowledged');

  await Promise.all(load.receivers.map((r) => r.catchUp()));
  const lastSeq = new Map<string, number>();
  for (const r of rows) lastSeq.set(r.conversation_id, Math.max(lastSeq.get(r.conversation_id) ?? 0, r.seq));
  const incomplete = load.receivers.flatMap((r) => r.conversations.filter((id) => r.contiguous(id) !== (lastSeq.get(id) ?? 0)).map((id) => `${r.userId} ${id}`));
  t.same(incomplete, [], 'every receiver holds every message after sync');
  t.comment(`messages the receivers recovered with sync (events lost with Redis): ${load.receivers.map((r) => r.fromSync).join(', ')}`);
});
