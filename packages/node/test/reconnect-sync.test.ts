import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('a client that was away recovers every missed message with sync', async (t) => {
  const n = await startTestNode(t, { limits: { send_burst: 1000 } });
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  let b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  await a.send(conversation.id, { content: 'before' });
  await b.close();

  const N = 250;
  await Promise.all(Array.from({ length: N }, (_, i) => a.send(conversation.id, { content: `missed ${i}` })));

  b = await n.connect(bob);
  const seen = new Map<number, string>();
  let after = 1;
  for (;;) {
    const res = await b.sync([{ conversation_id: conversation.id, after_seq: after }], 100);
    const c = res.conversations[0]!;
    for (const m of c.messages) seen.set(m.seq, Buffer.from(m.content).toString());
    if (c.complete) {
      t.equal(c.last_seq, N + 1);
      break;
    }
    after = c.messages[c.messages.length - 1]!.seq;
  }
  t.equal(seen.size, N, 'every missed message came back');
  t.same([...seen.keys()].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i + 2), 'seqs 2..N+1, no gaps');
  const texts = new Set(seen.values());
  for (let i = 0; i < N; i++) t.ok(texts.has(`missed ${i}`), `message ${i} recovered`);
});

t.test('sync refuses conversations the caller is not in, per conversation', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob, eve] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const e = await n.connect(eve);
  const { conversation } = await a.direct(bob);
  const mine = (await e.direct(alice)).conversation;
  const res = await e.sync([{ conversation_id: conversation.id, after_seq: 0 }, { conversation_id: mine.id, after_seq: 0 }, { conversation_id: randomUUID(), after_seq: 0 }]);
  const byId = new Map(res.conversations.map((c) => [c.conversation_id, c as typeof c & { error?: { code: string } }]));
  t.equal(byId.get(conversation.id)?.error?.code, 'forbidden');
  t.equal(byId.get(mine.id)?.error, undefined);
  t.equal(res.conversations.filter((c) => (c as { error?: { code: string } }).error?.code === 'not_found').length, 1);
});
