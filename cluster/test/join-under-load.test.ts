// A fourth node joins a cluster of three under load, then one of the first three
// leaves with SIGTERM (DESIGN.md "The cluster": planned moves). Consistent hashing
// moves only the conversations the new node's slot takes, about 1/N of them, and
// nothing else; while one moves its sends may be answered `unavailable` for a
// moment and are retried with the same client_random. The leaving node closes its
// sockets with 1001 and its clients reconnect elsewhere. Afterwards: no seq twice,
// every acknowledged message stored.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatLoad } from './helpers/chat-load.ts';
import { outageMs, secs, summarize } from './helpers/outage.ts';
import { startProcessCluster, waitUntil } from './helpers/process-cluster.ts';
import { ackProblems, gaplessProblems, storedRows } from './helpers/stored.ts';

t.test('a fourth node joins under load, then one leaves with SIGTERM', async (t) => {
  const c = await startProcessCluster(t, { nodes: 3 });
  const load = await ChatLoad.create(c, { senders: 6, receivers: 6, pauseMs: 200 });
  t.teardown(() => load.close());
  const before = await c.ringView();

  load.start();
  await sleep(3000);
  const joinAt = Date.now();
  const added = await c.addNode();
  await c.converged(4, 30_000);
  const readyAfterMs = Date.now() - joinAt;
  const after = await c.ringView();
  t.equal(after.nodeOfSlot.size, 4, 'the ring has four slots');

  const ids = load.conversations.map((x) => x.id);
  const moved = ids.filter((id) => before.ownerOf(id) !== after.ownerOf(id));
  t.same(moved.filter((id) => after.ownerOf(id) !== added.nodeId), [], 'every conversation that moved, moved to the new node (none between the old ones)');
  const share = moved.length / ids.length;
  // A wider sample of keys, for the same rings: what the conversations in use are a sample of.
  const keys = Array.from({ length: 20_000 }, () => randomUUID());
  const keyShare = keys.filter((k) => before.ownerOf(k) !== after.ownerOf(k)).length / keys.length;
  t.comment(`join: node-4 ready and seen by every node ${secs(readyAfterMs)} after it was started; ${moved.length} of ${ids.length} conversations in use moved (${(share * 100).toFixed(1)} %; 1/N = 25 %; over 20,000 random keys ${(keyShare * 100).toFixed(1)} %)`);
  t.ok(keyShare > 0.15 && keyShare < 0.35, `about 1/N of the keys move (${(keyShare * 100).toFixed(1)} %)`);
  t.ok(share > 0.05 && share < 0.5, `about 1/N of the conversations in use moved (${(share * 100).toFixed(1)} % of ${ids.length})`);

  await waitUntil('every conversation is acknowledged after the join', () => ids.every((id) => load.acks.some((a) => a.conversationId === id && a.ackedAt > joinAt + readyAfterMs)), 20_000);
  await sleep(2000);
  const movedOutage = summarize(moved.map((id) => outageMs(load, id, joinAt)));
  const unavailableAtJoin = load.counters.unavailable;
  t.comment(`moving conversations waited ${secs(movedOutage.maxMs)} at most for an ack (median ${secs(movedOutage.medianMs)}); unavailable answers ${unavailableAtJoin}, timeouts ${load.counters.timeouts}`);

  // A planned leave: node-1 (clients on it, conversations owned by it) gets SIGTERM.
  const leaving = c.nodes[0];
  if (!leaving) throw new Error('no node 1');
  const leftOwned = ids.filter((id) => after.ownerOf(id) === leaving.nodeId);
  const leaveAt = Date.now();
  leaving.signal('SIGTERM');
  const exit = await leaving.exited;
  const stoppedInMs = Date.now() - leaveAt;
  t.equal(exit.code, 0, `node-1 stopped cleanly in ${secs(stoppedInMs)}`);
  await c.converged(3, 30_000);
  await waitUntil('every conversation is acknowledged after the leave', () => ids.every((id) => load.acks.some((a) => a.conversationId === id && a.ackedAt > Date.now() - 1000)), 20_000);
  await sleep(1000);
  await load.stop();
  t.same(load.failures, [], 'no send failed for good');
  t.ok((load.closeCodes.get(1001) ?? 0) > 0, `its clients were closed with 1001 (close codes seen: ${JSON.stringify(Object.fromEntries(load.closeCodes))})`);
  const leftOutage = summarize(leftOwned.map((id) => outageMs(load, id, leaveAt)));
  t.comment(`leave: node-1 stopped ${secs(stoppedInMs)} after SIGTERM; the ${leftOwned.length} conversations it owned waited ${secs(leftOutage.maxMs)} at most for an ack (median ${secs(leftOutage.medianMs)}); unavailable answers during the leave ${load.counters.unavailable - unavailableAtJoin}; reconnects ${load.counters.reconnects}`);

  const rows = await storedRows(c.pg, ids);
  t.same(gaplessProblems(rows), [], 'per conversation the seqs are exactly 1..N, no send stored twice');
  t.same(ackProblems(rows, load.acks, true), [], 'every ack is stored with its id and seq, and every stored message was acknowledged');
});
