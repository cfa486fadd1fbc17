import { randomUUID } from 'node:crypto';
import t from 'tap';
import { OP_RATES } from '@whispr/protocol';
import { collectReplies } from './helpers/raw.ts';
import { startTestNode } from './helpers/test-node.ts';

t.test('every op is rate limited by its class; a flood of one class leaves the others alone', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  t.same(a.limits.op_rates, OP_RATES, 'hello announces the fixed rate of every class');
  const { conversation } = await a.direct(bob);

  // Far more reads than the read burst, all at once: the excess is refused with a retry time.
  const replies = collectReplies(a);
  const flood = OP_RATES.read.burst + 100;
  for (let i = 0; i < flood; i++) a.sendRaw(JSON.stringify({ id: `r${i}`, op: 'conv.get', conversation_id: conversation.id }), false);
  const deadline = Date.now() + 20_000;
  while (replies.length < flood && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(replies.length, flood, 'every read is answered');
  const limited = replies.filter((r) => r.error?.code === 'rate_limited');
  const served = replies.filter((r) => r.ok);
  t.ok(limited.length >= 90, `the excess is refused (${limited.length} of ${flood})`);
  t.ok(served.length >= OP_RATES.read.burst, `the burst is served (${served.length})`);
  t.ok(limited.every((r) => typeof r.error?.retry_after_ms === 'number' && r.error.retry_after_ms > 0), 'each refusal says when to retry');
  t.ok(limited.every((r) => r.error?.message.includes('read')), 'the refusal names the rate class');

  // Sends have a bucket of their own: the read flood did not use it.
  const sent = await a.send(conversation.id, { content: 'still sending' });
  t.ok(sent.message.seq >= 1, 'a send after a read flood goes through');
});

t.test('typing and writes have their own, smaller buckets', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const replies = collectReplies(a);
  const flood = OP_RATES.typing.burst + 30;
  for (let i = 0; i < flood; i++) a.sendRaw(JSON.stringify({ id: `t${i}`, op: 'typing', conversation_id: conversation.id, state: 'start' }), false);
  const deadline = Date.now() + 20_000;
  while (replies.length < flood && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const limited = replies.filter((r) => r.error?.code === 'rate_limited');
  t.ok(limited.length >= 25, `typing past its burst is refused (${limited.length} of ${flood})`);
  // Reads still go through.
  const got = await a.get(conversation.id);
  t.equal(got.conversation.id, conversation.id, 'a read after a typing flood goes through');
});
