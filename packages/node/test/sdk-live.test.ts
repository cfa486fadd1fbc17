/** The SDK against a real node started for this file. */
import t from 'tap';
import { startTestNode, TEST_SECRET } from './helpers/test-node.ts';
import { randomUUID } from 'node:crypto';
import type { Encoding } from '@whispr/protocol';
import { mintDevToken, SyncTracker, textOf, WhisprClient, WhisprRequestError, WhisprUpgradeError } from '@whispr/client';

// A real node of its own (database, Redis prefix, port), stopped when the file ends.
const testNode = await startTestNode(t);
const url: string | undefined = testNode.node.wsUrl;
const secret = TEST_SECRET;

async function login(encoding: Encoding, userId = randomUUID()): Promise<WhisprClient> {
  const token = await mintDevToken({ userId, secret });
  const client = await WhisprClient.connect({ url: url ?? '', token, encoding });
  t.teardown(() => client.close().then(() => undefined));
  return client;
}

if (url) {
  t.test('a refused token rejects connect with the HTTP status', async (t) => {
    const token = await mintDevToken({ userId: randomUUID(), secret: `${secret}-wrong` });
    await t.rejects(WhisprClient.connect({ url, token }), WhisprUpgradeError);
    await t.rejects(WhisprClient.connect({ url, token, tokenIn: 'query' }), { name: 'WhisprUpgradeError', status: 401 });
  });

  for (const encoding of ['json', 'msgpack'] as const) {
    t.test(`${encoding}: direct conversation, send, msg.new, receipts`, async (t) => {
      const alice = await login(encoding);
      const bob = await login(encoding);
      t.equal(alice.hello.user_id, alice.userId);
      t.ok(alice.limits.max_frame_bytes > 0);

      const [fromAlice, fromBob] = await Promise.all([alice.direct(bob.userId), bob.direct(alice.userId)]);
      t.equal(fromAlice.conversation.id, fromBob.conversation.id, 'both sides get the same conversation');
      const conv = fromAlice.conversation.id;

      const bobSees = bob.waitFor('msg.new', (e) => e.message.conversation_id === conv);
      const aliceSees = alice.waitFor('msg.new', (e) => e.message.conversation_id === conv);
      const sent = await alice.send(conv, { content: 'hi bob ✓' });
      t.equal(sent.message.seq, 1);
      const [atBob, atAlice] = await Promise.all([bobSees, aliceSees]);
      t.equal(textOf(atBob.message), 'hi bob ✓');
      t.ok(atBob.message.content instanceof Uint8Array);
      t.equal(atAlice.message.id, sent.message.id, 'the sender gets its own msg.new');

      const receipt = alice.waitFor('receipt', (e) => e.user_id === bob.userId && e.kind === 'read');
      await bob.markRead(conv, 1);
      t.match(await receipt, { conversation_id: conv, up_to_seq: 1 });

      const retry = await alice.send(conv, { content: 'hi bob ✓', clientRandom: atAlice.message.client_random });
      t.same(retry, { ...sent, duplicate: true }, 'same client_random and content: the first reply again');
      await t.rejects(alice.send(conv, { content: 'other', clientRandom: atAlice.message.client_random }), {
        name: 'WhisprRequestError',
        code: 'conflict',
      });
    });

    t.test(`${encoding}: pipelined sends keep their order; history and catch-up agree`, async (t) => {
      const alice = await login(encoding);
      const bob = await login(encoding);
      const { conversation } = await alice.direct(bob.userId);
      const results = await Promise.all(
        Array.from({ length: 150 }, (_, i) => alice.send(conversation.id, { content: `m${i}` })),
      );
      t.same(results.map((r) => r.message.seq), Array.from({ length: 150 }, (_, i) => i + 1));

      const page = await bob.history(conversation.id, { limit: 10 });
      t.same(page.messages.map((m) => m.seq), [141, 142, 143, 144, 145, 146, 147, 148, 149, 150]);
      t.equal(page.has_more, true);

      const tracker = new SyncTracker();
      tracker.seed(conversation.id, 0);
      tracker.observe({ conversation_id: conversation.id, seq: 120 }); // as if it had come live
      const got = await tracker.catchUp(bob, { limit: 40 });
      t.equal(got.length, 149, 'every message once, minus the one already had');
      t.equal(tracker.cursor(conversation.id), 150);
      t.equal(textOf(got[0] ?? { content: new Uint8Array() }), 'm0');
    });

    t.test(`${encoding}: the offline queue arrives right after hello, until acknowledged`, async (t) => {
      const bob = await login(encoding);
      const aliceId = randomUUID();
      const { conversation } = await bob.direct(aliceId);
      for (const text of ['q1', 'q2', 'q3']) await bob.send(conversation.id, { content: text });
      // An ack comes at commit; the queueing follows it. Alice connecting before the third is
      // queued would (rightly) get that one live instead, so wait for the queue first.
      const queueKey = `${testNode.redisPrefix}delivery:queue:{${aliceId}}`;
      for (let waited = 0; waited < 5000 && (await testNode.redis.zcard(queueKey)) < 3; waited += 20) await new Promise((r) => setTimeout(r, 20));
      const visit = async (acknowledge: boolean, expected: number): Promise<number[]> => {
        const alice = await login(encoding, aliceId);
        // Attached after connect() resolved: the SDK holds events that came in behind hello.
        const seqs: number[] = [];
        alice.on('msg.new', ({ message }) => seqs.push(message.seq));
        await alice.ping();
        // The queue is read from Redis after hello: on a loaded machine that can take a while.
        for (let waited = 0; waited < 5000 && seqs.length < expected; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (acknowledge) await alice.markDelivered(conversation.id, 3);
        await alice.close();
        return seqs;
      };
      t.same(await visit(false, 3), [1, 2, 3]);
      t.same(await visit(true, 3), [1, 2, 3], 'delivered again: nothing acknowledged them');
      t.same(await visit(false, 0), [], 'gone once acknowledged');
    });

    t.test(`${encoding}: errors, raw frames and close`, async (t) => {
      const alice = await login(encoding);
      await t.rejects(alice.get(randomUUID()), WhisprRequestError);
      await t.rejects(alice.get(randomUUID().toUpperCase()), { name: 'WhisprRequestError', code: 'bad_request' });
      const self = alice.direct(alice.userId);
      await t.rejects(self, { name: 'WhisprRequestError', code: 'bad_request' });

      const unmatched = alice.waitFor('reply.unmatched');
      alice.sendRaw('{not json', false);
      t.match(await unmatched, { re: null, ok: false, error: { code: 'bad_request' } });
      t.ok((await alice.ping()).server_time > 0, 'still open after an error reply');

      const pending = alice.ping();
      const closed = await alice.close();
      t.equal(closed.code, 1000);
      await pending.catch(() => undefined);
      await t.rejects(alice.ping(), { name: 'WhisprConnectionClosedError' });
    });
  }
}
