// A scheduled message whose job fires on a node that does not own the
// conversation is sent through the owner, over the bus, once.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { directConversationId } from '@whispr/store';
import { startTestCluster, type TestCluster } from './helpers/test-cluster.ts';
import { collect, messagesWith, rowOf, sleep, until } from './helpers/scheduled.ts';

function pairOwnedBy(c: TestCluster, owner: number): [string, string] {
  for (;;) {
    const pair: [string, string] = [randomUUID(), randomUUID()];
    if (c.ownerIndex(directConversationId(pair[0], pair[1])) === owner) return pair;
  }
}

async function forwardedFrom(c: TestCluster, node: number): Promise<number> {
  const metric = await c.nodes[node]!.gateway.metrics.forwarded.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

t.test('the job runs on node 0, the conversation is node 1’s', async (t) => {
  const c = await startTestCluster(t, 2);
  const [alice, bob] = pairOwnedBy(c, 1);
  // Only node 0 takes scheduled-message jobs.
  await c.nodes[1]!.jobs.pause();
  const a = await c.connect(alice, 1);
  const b = await c.connect(bob, 0, 'msgpack');
  const { conversation } = await a.direct(bob);
  const atBob = collect(b, conversation.id);
  const before = await forwardedFrom(c, 0);
  const { scheduled } = await a.scheduleMessage(conversation.id, Date.now() + 1500, { content: 'across', clientRandom: 31337 });
  await until('bob got it', () => atBob.length >= 1);
  await sleep(1000);
  t.equal(atBob.length, 1, 'once');
  t.equal(atBob[0]?.client_random, 31337, 'with its client_random');
  t.equal(atBob[0]?.sender_id, alice, 'as alice');
  t.ok((await forwardedFrom(c, 0)) > before, 'node 0 forwarded the send to the owner');
  t.equal((await rowOf(c.databaseUrl, scheduled.id))?.is_sent, true, 'marked sent');
  t.equal(await messagesWith(c.databaseUrl, conversation.id), 1, 'one message stored');
});
