// presence.watch / presence.unwatch on one node (PROTOCOL.md §5, §6): the reply
// gives each user's state; `presence` events follow when a watched user goes
// online (first connection) or offline (last connection closed); unwatching
// stops them, a closing connection's watches die with it, and the bounds
// (500 a call, hello.limits.max_presence_watched a connection) are refused.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { PresenceEvent } from '@whispr/protocol';
import { startTestNode } from './helpers/test-node.ts';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (err: unknown) => (err as { code?: string }).code ?? String(err));
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('watch answers the state, then online and offline events follow; the Redis records say the same', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [watcher, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const w = await n.connect(watcher);
  const wMp = await n.connect(watcher, 'msgpack');
  t.equal(w.hello?.limits.max_presence_watched, 1000, 'the per-connection bound is announced in hello');
  const c1 = await n.connect(carol);

  const reply = await w.watchPresence([bob, carol, bob]);
  t.same(reply.presence.map((p) => [p.user_id, p.online]), [[bob, false], [carol, true]], 'state of each user named, once');
  t.equal(reply.presence[0]?.last_activity, null, 'never seen: last_activity null');
  t.ok((reply.presence[1]?.last_activity ?? 0) > Date.now() - 60_000, 'online: a recent last_activity');
  await wMp.watchPresence([bob]);

  const events: PresenceEvent[] = [];
  w.on('presence', (e) => events.push(e));
  const online = w.waitFor('presence', (e) => e.user_id === bob && e.online);
  const onlineMp = wMp.waitFor('presence', (e) => e.user_id === bob && e.online);
  const b1 = await n.connect(bob);
  const ev = await online;
  t.same(Object.keys(ev).sort(), ['ev', 'last_activity', 'online', 'user_id']);
  t.ok(ev.last_activity !== null && ev.last_activity > Date.now() - 10_000);
  await onlineMp;
  t.pass('both watching connections hear it, JSON and MessagePack');

  const hash = await n.redis.hgetall(`${n.redisPrefix}presence:user:{${bob}}`);
  t.equal(hash.connections, '1');
  t.equal(hash.node, n.node.nodeId);
  t.ok(Object.keys(hash).some((f) => f.startsWith('d:')), 'a device field per connection');
  t.ok(Object.keys(hash).some((f) => f === `n:${n.node.nodeId}`), 'the per-node count');
  t.ok(await n.redis.pttl(`${n.redisPrefix}presence:user:{${bob}}`) > 60_000, 'the record has its 2 min TTL');
  t.same(await n.redis.hgetall(`${n.redisPrefix}presence:watchers:{${bob}}`), { [n.node.nodeId]: n.node.incarnation }, 'one watcher entry for the node, however many connections watch');
  const sessionKeys = await n.redis.keys(`${n.redisPrefix}session:*`);
  t.ok(sessionKeys.length >= 4, 'a session hash per connection');

  // A second connection is no news; closing one of two is none either.
  const b2 = await n.connect(bob, 'msgpack');
  await b2.close();
  const offline = w.waitFor('presence', (e) => e.user_id === bob && !e.online);
  await b1.close();
  const off = await offline;
  t.ok(off.last_activity !== null, 'offline carries the last activity');
  t.same(events.filter((e) => e.user_id === bob).map((e) => e.online), [true, false], 'online once, offline once');
  t.same((await w.watchPresence([bob])).presence[0]?.online, false, 'watching again reads offline');
  t.ok(hash.last_activity, 'the record keeps last_activity');

  // Carol goes offline too.
  const carolOff = w.waitFor('presence', (e) => e.user_id === carol && !e.online);
  await c1.close();
  await carolOff;
  t.pass('carol offline');
});

t.test('unwatch stops events; a closed connection’s watches die with it', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [watcher, other, bob] = [randomUUID(), randomUUID(), randomUUID()];
  const w = await n.connect(watcher);
  const o = await n.connect(other);
  await w.watchPresence([bob]);
  await o.watchPresence([bob]);
  const unwatched = await w.unwatchPresence([bob]);
  t.same(unwatched.presence, [{ user_id: bob, online: false, last_activity: null }], 'unwatch answers the state too');
  const toW: PresenceEvent[] = [];
  w.on('presence', (e) => toW.push(e));
  const oHears = o.waitFor('presence', (e) => e.user_id === bob && e.online);
  const b = await n.connect(bob);
  await oHears;
  await pause(300);
  t.same(toW, [], 'an unwatched user’s events stop');

  await o.close();
  await pause(300);
  t.same(await n.redis.hgetall(`${n.redisPrefix}presence:watchers:{${bob}}`), {}, 'the last watcher gone: the node’s entry goes');
  const o2 = await n.connect(other);
  const toO2: PresenceEvent[] = [];
  o2.on('presence', (e) => toO2.push(e));
  await b.close();
  await pause(500);
  t.same(toO2, [], 'a new connection of the same user does not inherit the old one’s watches');
});

t.test('bounds: more than 500 in one call, more than max_presence_watched on a connection, bad ids', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const w = await n.connect(randomUUID());
  const many = (k: number): string[] => Array.from({ length: k }, () => randomUUID());
  t.equal(await codeOf(w.watchPresence(many(501))), 'bad_request', '501 in one call');
  t.equal(await codeOf(w.unwatchPresence(many(501))), 'bad_request', '501 in one unwatch');
  t.equal(await codeOf(w.watchPresence(['not-a-uuid'])), 'bad_request', 'a bad id');
  t.equal(await codeOf(w.requestUnchecked('presence.watch', {})), 'bad_request', 'user_ids missing');
  const first = many(500);
  await w.watchPresence(first);
  await w.watchPresence(many(500));
  await w.watchPresence(first.slice(0, 10));
  t.pass('1000 watched; watching some again adds nothing');
  const err = await w.watchPresence(many(1)).then(() => null, (e: unknown) => e as { code: string; message: string });
  t.equal(err?.code, 'bad_request', 'the 1001st is refused');
  t.match(err?.message ?? '', /user_ids/);
  await w.unwatchPresence(first.slice(0, 5));
  t.equal((await w.watchPresence(many(5))).presence.length, 5, 'room again after unwatching');
});
