// Presence across nodes (PROTOCOL.md §5 "Presence", §6): a watcher on one node
// hears a user connecting and disconnecting on another; a user online on two
// nodes is online until the last connection anywhere closes; each watching node
// is listed once in Redis and gets each change once; unwatch and a closed
// connection stop the events across nodes too.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { PresenceEvent } from '@whispr/protocol';
import { startTestCluster } from './helpers/test-cluster.ts';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('watcher on node A, user on node B: online, offline, and the last connection anywhere', async (t) => {
  const c = await startTestCluster(t, 2);
  const [A, B] = [0, 1];
  const [watcher, watcherB, bob] = [randomUUID(), randomUUID(), randomUUID()];
  const w = await c.connect(watcher, A);
  const wb = await c.connect(watcherB, B, 'msgpack');
  t.same((await w.watchPresence([bob])).presence, [{ user_id: bob, online: false, last_activity: null }]);
  await wb.watchPresence([bob]);
  const watchers = await c.redis.hgetall(`${c.redisPrefix}presence:watchers:{${bob}}`);
  t.same(Object.keys(watchers).sort(), [c.nodes[A]!.nodeId, c.nodes[B]!.nodeId].sort(), 'both nodes listed as watchers, once each');

  const atA: PresenceEvent[] = [];
  const atB: PresenceEvent[] = [];
  w.on('presence', (e) => atA.push(e));
  wb.on('presence', (e) => atB.push(e));

  const onlineA = w.waitFor('presence', (e) => e.user_id === bob && e.online);
  const onlineB = wb.waitFor('presence', (e) => e.user_id === bob && e.online);
  const b1 = await c.connect(bob, B);
  await Promise.all([onlineA, onlineB]);
  t.pass('online reaches the watcher on the other node and the one on the same node');
  t.same((await w.watchPresence([bob])).presence[0]?.online, true, 'a watch from node A reads online');

  // Online on both nodes: closing the connection on B is no news, closing the last one (on A) is.
  const b2 = await c.connect(bob, A);
  await b1.close();
  await pause(500);
  t.same(atA.map((e) => e.online), [true], 'still online on node A: no offline');
  const offA = w.waitFor('presence', (e) => e.user_id === bob && !e.online);
  const offB = wb.waitFor('presence', (e) => e.user_id === bob && !e.online);
  await b2.close();
  await Promise.all([offA, offB]);
  t.same(atA.map((e) => e.online), [true, false], 'node A’s watcher: online once, offline once');
  t.same(atB.map((e) => e.online), [true, false], 'node B’s watcher: the same');
});

t.test('unwatch and a closed connection stop events across nodes', async (t) => {
  const c = await startTestCluster(t, 2);
  const [watcher, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const w = await c.connect(watcher, 0);
  await w.watchPresence([bob, carol]);
  await w.unwatchPresence([bob]);
  const atW: PresenceEvent[] = [];
  w.on('presence', (e) => atW.push(e));
  const carolOnline = w.waitFor('presence', (e) => e.user_id === carol && e.online);
  const b = await c.connect(bob, 1);
  const cl = await c.connect(carol, 1);
  await carolOnline;
  await pause(300);
  t.same(atW.map((e) => e.user_id), [carol], 'bob unwatched: only carol’s event');

  await w.close();
  await pause(300);
  t.same(await c.redis.hgetall(`${c.redisPrefix}presence:watchers:{${carol}}`), {}, 'node A no longer listed once its only watcher closed');
  const w2 = await c.connect(watcher, 0);
  const atW2: PresenceEvent[] = [];
  w2.on('presence', (e) => atW2.push(e));
  await cl.close();
  await b.close();
  await pause(500);
  t.same(atW2, [], 'a closed connection’s watches are not carried over');
});
