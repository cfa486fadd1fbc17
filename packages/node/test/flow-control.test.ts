import { randomUUID } from 'node:crypto';
import t from 'tap';
import WebSocket from 'ws';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('sends over the rate are refused with rate_limited and retry_after_ms', async (t) => {
  const n = await startTestNode(t, { workers: 1, limits: { send_rate_per_s: 5, send_burst: 5 } });
  const a = await n.connect(randomUUID());
  const { conversation } = await a.direct(randomUUID());
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => a.send(conversation.id, { content: `r${i}` })));
  const limited = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as WhisprRequestError);
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 5, 'the burst goes through');
  t.equal(limited.length, 5);
  for (const e of limited) {
    t.equal(e.code, 'rate_limited');
    t.ok(Number(e.details.retry_after_ms) > 0, 'says when to retry');
  }
  const seqs = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ message: { seq: number } }>).value.message.seq);
  t.same(seqs.sort((x, y) => x - y), [1, 2, 3, 4, 5], 'refused sends consume no seq');
});

t.test('a reader that does not read is closed with 4008 and the senders are not slowed', async (t) => {
  const n = await startTestNode(t, { workers: 1, socketBacklogBytes: 64 * 1024, limits: { send_rate_per_s: 100000, send_burst: 100000 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  // Bob connects with a raw socket and stops reading from it.
  const ws = new WebSocket(`${n.node.wsUrl}?token=${await n.token(bob)}`);
  await new Promise((resolve) => ws.once('message', resolve));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.pause();
  const big = 'x'.repeat(30_000);
  const started = Date.now();
  const serverClosedSlow = async (): Promise<boolean> =>
    (await n.node.gateway.metrics.closes.get()).values.some((v) => v.labels.code === '4008' && v.value > 0);
  let sent = 0;
  while (!(await serverClosedSlow()) && sent < 2000) {
    await a.send(conversation.id, { content: big });
    sent++;
  }
  t.ok(await serverClosedSlow(), `the server closed the slow reader after ${sent} messages`);
  t.ok(Date.now() - started < 60_000, 'alice kept sending at her pace');
  // The close frame waits behind the unread backlog: read it now, as a slow client eventually would.
  ws.resume();
  t.equal(await closed, 4008);
});
