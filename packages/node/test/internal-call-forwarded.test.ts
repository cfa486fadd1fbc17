// An internal call made on a node that does not own the conversation is carried
// over the bus to its owner, with its principal, and answered there.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { directConversationId } from '@whispr/store';
import { WhisprError } from '@whispr/protocol';
import { startTestCluster, type TestCluster } from './helpers/test-cluster.ts';

function pairOwnedBy(c: TestCluster, owner: number): [string, string] {
  for (;;) {
    const pair: [string, string] = [randomUUID(), randomUUID()];
    if (c.ownerIndex(directConversationId(pair[0], pair[1])) === owner) return pair;
  }
}

async function forwardedCount(c: TestCluster, from: number): Promise<number> {
  const metric = await c.nodes[from]!.gateway.metrics.forwarded.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

t.test('a send, a read and the service principal all cross to the owner', async (t) => {
  const c = await startTestCluster(t, 2);
  const [alice, bob] = pairOwnedBy(c, 1);
  const a = await c.connect(alice, 1);
  const b = await c.connect(bob, 0);
  const { conversation } = await a.direct(bob);
  const caller = c.nodes[0]!;
  const before = await forwardedCount(c, 0);

  const toBob = b.waitFor('msg.new', (ev) => ev.message.conversation_id === conversation.id);
  const sent = await caller.internal.call({ kind: 'user', userId: alice }, {
    op: 'msg.send', conversation_id: conversation.id, client_random: 9, type: 'text', content: Buffer.from('over the bus'),
  });
  t.equal(sent.message.seq, 1, 'acknowledged by the owner');
  const ev = await toBob;
  t.equal(ev.message.sender_id, alice, 'the principal survived the hop');
  t.equal(Buffer.from(ev.message.content).toString(), 'over the bus', 'content intact');

  const asService = await caller.internal.call({ kind: 'service' }, { op: 'conv.get', conversation_id: conversation.id });
  t.equal(asService.conversation.last_seq, 1, 'the service principal survived the hop (no membership needed)');
  const stranger = await caller.internal.call({ kind: 'user', userId: randomUUID() }, { op: 'conv.get', conversation_id: conversation.id }).then(
    () => 'ok', (err: unknown) => (err instanceof WhisprError ? err.code : 'other'),
  );
  t.equal(stranger, 'forbidden', 'a non-member stays a non-member across the hop');
  t.ok((await forwardedCount(c, 0)) - before >= 3, 'each call was forwarded from node 0');
});

t.test('an owner that has left answers unavailable, not never', async (t) => {
  const c = await startTestCluster(t, 2, { nodeGraceMs: 1000 });
  const [alice, bob] = pairOwnedBy(c, 1);
  const a = await c.connect(alice, 1);
  const { conversation } = await a.direct(bob);
  const owner = c.nodes[1]!;
  // Node 0 routes to the owner until its ring moves: a call racing the owner's stop is answered, one way or the other.
  const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: unknown) => (err instanceof WhisprError ? err.code : 'other'));
  const racing = codeOf(c.nodes[0]!.internal.call({ kind: 'user', userId: alice }, { op: 'conv.get', conversation_id: conversation.id }));
  await owner.stop();
  const during = codeOf(c.nodes[0]!.internal.call({ kind: 'user', userId: alice }, { op: 'conv.get', conversation_id: conversation.id }));
  t.ok(['ok', 'unavailable'].includes(await racing), `the racing call settled (${await racing})`);
  t.ok(['ok', 'unavailable'].includes(await during), `a call after the stop settled (${await during})`);
});
