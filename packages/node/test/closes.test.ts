// Every reply to a request read before a close is sent before the close frame,
// and a close always carries its documented code (PROTOCOL.md §3).
import { randomUUID } from 'node:crypto';
import t from 'tap';
import WebSocket from 'ws';
import { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { collectReplies } from './helpers/raw.ts';

t.test('all 20 replies to undecodable frames arrive before the 1008 close', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  for (let round = 0; round < 3; round++) {
    const a = await n.connect(randomUUID());
    const { conversation } = await a.direct(randomUUID());
    const replies = collectReplies(a);
    const closed = a.waitFor('close');
    // Half refused by the main thread, half (`01` passes the head scan) by the worker's decoder.
    const toWorker = `{"id":1,"op":"msg.history","conversation_id":"${conversation.id}","x":01}`;
    for (let i = 0; i < 20; i++) a.sendRaw(i % 2 === 0 ? '{bad' : toWorker, false);
    const info = await closed;
    t.equal(info.code, 1008, `round ${round}: closed with 1008`);
    t.equal(replies.length, 20, `round ${round}: every reply came first`);
    t.ok(replies.every((r) => r.error?.code === 'bad_request' && r.re === null));
  }
});

t.test('requests read just before the token expires are answered before the 4001 close', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const user = randomUUID();
  const expiresAt = (Math.floor(Date.now() / 1000) + 3) * 1000;
  const token = await n.token(user, Math.round((expiresAt - Date.now()) / 1000));
  const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
  const a = await WhisprClient.connect({ url: n.node.wsUrl, token });
  t.teardown(() => a.close().catch(() => undefined));
  const { conversation } = await a.direct(randomUUID());
  await new Promise((r) => setTimeout(r, Math.max(0, exp.exp * 1000 - Date.now() - 40)));
  const closed = a.waitFor('close', () => true, 15_000);
  const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => a.history(conversation.id, { limit: 1 + (i % 5) })));
  const info = await closed;
  t.equal(info.code, 4001);
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code ?? String(r.reason)));
  t.comment(JSON.stringify(codes));
  t.ok(codes.every((c) => c === 'ok' || c === 'unauthorized'), `every request answered ok or unauthorized before the close: ${[...new Set(codes)].join(', ')}`);
});

t.test('a slow reader that reads only much later still gets 4008, not 1006', async (t) => {
  const n = await startTestNode(t, { workers: 1, socketBacklogBytes: 64 * 1024, limits: { send_rate_per_s: 100000, send_burst: 100000 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const ws = new WebSocket(`${n.node.wsUrl}?token=${await n.token(bob)}`);
  await new Promise((resolve) => ws.once('message', resolve));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.pause();
  const serverClosedSlow = async (): Promise<boolean> =>
    (await n.node.gateway.metrics.closes.get()).values.some((v) => v.labels.code === '4008' && v.value > 0);
  const big = 'x'.repeat(30_000);
  for (let sent = 0; !(await serverClosedSlow()) && sent < 2000; sent++) await a.send(conversation.id, { content: big });
  t.ok(await serverClosedSlow(), 'the server decided to close the slow reader');
  await new Promise((r) => setTimeout(r, 6000)); // longer than the WebSocket library's own close timeout
  ws.resume();
  t.equal(await closed, 4008);
});

t.test('stopping a node takes each of its connections off the presence count once', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const user = randomUUID();
  await n.connect(user);
  await n.connect(user);
  const key = `${n.redisPrefix}presence:user:{${user}}`;
  for (let i = 0; i < 50 && Number(await n.redis.hget(key, 'connections')) !== 2; i++) await new Promise((r) => setTimeout(r, 20));
  // As if another node held one more connection of this user.
  await n.redis.hincrby(key, 'connections', 1);
  await n.node.stop();
  t.equal(Number(await n.redis.hget(key, 'connections')), 1, 'the other node’s connection is still counted');
});
