// kill -9 one of three node processes under load (DESIGN.md invariants 2-4, PROTOCOL.md
// §1): clients on every node send into direct conversations owned everywhere,
// retry `unavailable` and timeouts with the same client_random, and reconnect to
// another node when theirs dies. Afterwards every acknowledged message is stored
// once, seqs run 1..N, every conversation took sends again within the grace plus a
// few seconds, and the receivers that reconnected got everything back with sync.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatLoad } from './helpers/chat-load.ts';
import { outageMs, secs, summarize } from './helpers/outage.ts';
import { startProcessCluster, sumMetric, waitUntil } from './helpers/process-cluster.ts';
import { ackProblems, gaplessProblems, storedRows } from './helpers/stored.ts';

/** Slack on top of the grace for the ring to move on a busy 2-core machine (poll, reload, retry pauses). */
const SLACK_MS = 6000;

t.test('kill -9 of one of three nodes under load', async (t) => {
  const c = await startProcessCluster(t, { nodes: 3 });
  const load = await ChatLoad.create(c, { senders: 6, receivers: 4, pauseMs: 150 });
  t.teardown(() => load.close());
  const ring = await c.ringView();
  const victim = c.nodes[1];
  if (!victim) throw new Error('no node 2');
  const owned = load.conversations.filter((x) => ring.ownerOf(x.id) === victim.nodeId).map((x) => x.id);
  t.ok(owned.length > 0, `${owned.length} of ${load.conversations.length} conversations are owned by ${victim.nodeId}`);

  load.start();
  await sleep(3000);
  const ackedBefore = load.acks.length;
  const killedAt = Date.now();
  victim.signal('SIGKILL');
  await victim.exited;
  await c.converged(2, c.graceMs + SLACK_MS + 10_000);
  await waitUntil('every conversation is acknowledged again', () => load.conversations.every((x) => load.acks.some((a) => a.conversationId === x.id && a.ackedAt > killedAt)), c.graceMs + SLACK_MS + 10_000);
  await sleep(2000);
  await load.stop();
  t.same(load.failures, [], 'no send failed for good (every one acknowledged in the end)');

  const ownedOutage = summarize(owned.map((id) => outageMs(load, id, killedAt)));
  const others = summarize(load.conversations.filter((x) => !owned.includes(x.id)).map((x) => outageMs(load, x.id, killedAt)));
  t.comment(`failover after kill -9 (grace ${c.graceMs} ms): conversations the dead node owned took sends again after ${secs(ownedOutage.maxMs)} at most (median ${secs(ownedOutage.medianMs)}, ${ownedOutage.count} conversations); the others' longest wait was ${secs(others.maxMs)}`);
  t.comment(`load: ${ackedBefore} acks before the kill, ${load.acks.length} in all; unavailable ${load.counters.unavailable}, timeouts ${load.counters.timeouts}, closed ${load.counters.closed}, reconnects ${load.counters.reconnects}`);
  t.comment(`survivors' counters: forward timeouts ${await sumMetric(c, 'whispr_forward_timeouts_total')}, bus payloads unheard ${await sumMetric(c, 'whispr_bus_dropped{reason="unheard"}')}, failed batches (seq key) ${await sumMetric(c, 'whispr_shard_failed_batches')}`);
  t.ok(ownedOutage.maxMs < c.graceMs + SLACK_MS, `every conversation of the dead node took sends again within the grace + ${SLACK_MS / 1000} s (${secs(ownedOutage.maxMs)})`);
  t.ok(others.maxMs < c.graceMs + SLACK_MS, `the other conversations too (${secs(others.maxMs)})`);

  const rows = await storedRows(c.pg, load.conversations.map((x) => x.id));
  t.same(gaplessProblems(rows), [], 'per conversation the seqs are exactly 1..N, no send stored twice');
  t.same(ackProblems(rows, load.acks, true), [], 'every ack is stored with its id and seq, and every stored message was acknowledged');

  // The receivers: events where they came, sync for the rest (the reconnected ones synced on reconnect already).
  await Promise.all(load.receivers.map((r) => r.catchUp()));
  const lastSeq = new Map<string, number>();
  for (const r of rows) lastSeq.set(r.conversation_id, Math.max(lastSeq.get(r.conversation_id) ?? 0, r.seq));
  const missing = load.receivers.flatMap((r) => r.conversations.filter((id) => r.contiguous(id) !== (lastSeq.get(id) ?? 0) || (r.seen.get(id)?.size ?? 0) !== (lastSeq.get(id) ?? 0)).map((id) => `${r.userId} ${id}`));
  t.same(missing, [], 'every receiver holds every message of its conversations, once, 1..N');
  const reconnected = load.receivers.filter((r) => r.link.reconnects > 0);
  t.ok(reconnected.length > 0, `${reconnected.length} receivers were on the dead node and reconnected`);
  t.comment(`receivers: ${reconnected.length} reconnected; messages recovered with sync: ${load.receivers.map((r) => r.fromSync).join(', ')}`);
});
