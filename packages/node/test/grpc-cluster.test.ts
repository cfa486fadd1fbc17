// A gRPC call taken by a node that does not own the conversation is carried to
// its owner (internal calls over the bus) and answered as if made there.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { WhisprError } from '@whispr/protocol';
import { WhisprRequestError } from '@whispr/client';
import { directConversationId } from '@whispr/store';
import { startTestCluster, type TestCluster } from './helpers/test-cluster.ts';
import { grpcClient, grpcConfig } from './helpers/grpc.ts';

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

t.test('CreateConversation, GetMessageMetadata and SyncBlocks on node 0 for a conversation node 1 owns', async (t) => {
  const c = await startTestCluster(t, 2, { grpc: grpcConfig() });
  const api = grpcClient(t, c.nodes[0]!);
  const [alice, bob] = pairOwnedBy(c, 1);
  const before = await forwardedFrom(c, 0);
  const { conversation } = await api.createConversation({ acting_user_id: alice, direct: { other_user_id: bob } });
  t.equal(conversation.id, directConversationId(alice, bob), 'created at the pair’s id');
  t.ok((await forwardedFrom(c, 0)) > before, 'node 0 forwarded the creation to the owner');

  const b = await c.connect(bob, 1);
  const sent = await b.send(conversation.id, { content: 'hello' });
  const { message } = await api.getMessageMetadata({ conversation_id: conversation.id, message_id: sent.message.id });
  t.equal(message.seq, 1, 'metadata of a message the other node committed');
  t.equal(message.sender_id, bob);

  const db = new pg.Client({ connectionString: c.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const epoch = async (): Promise<number> => (await db.query<{ e: number }>('SELECT owner_epoch::int AS e FROM conversations WHERE id = $1', [conversation.id])).rows[0]!.e;
  const epochBefore = await epoch();
  const forwardedBefore = await forwardedFrom(c, 0);
  t.same(await api.syncBlocks({ user_id: alice, blocked_ids: [bob] }), { added_ids: [bob], removed_ids: [] }, 'the block stored');
  t.ok((await forwardedFrom(c, 0)) > forwardedBefore, 'its notification crossed to the owner');
  const refused = await b.send(conversation.id, { content: 'after' }).then(() => 'sent', (err: unknown) => (err instanceof WhisprRequestError ? err.code : String(err)));
  t.equal(refused, 'forbidden', 'the blocked sender is refused at its next send, on the owner');
  t.equal(await epoch(), epochBefore + 1, 'the owner’s actor reloaded before its next send');
});

t.test('SyncGroupMembers on a node that does not own the group', async (t) => {
  const c = await startTestCluster(t, 2, { grpc: grpcConfig() });
  const [creator, m1] = [randomUUID(), randomUUID()];
  // A group's id is fresh: make groups from node 1 until one is owned by node 1, then sync it from node 0.
  const api1 = grpcClient(t, c.nodes[1]!);
  let groupId = '';
  for (let i = 0; i < 50 && groupId === ''; i++) {
    const { conversation } = await api1.createConversation({ acting_user_id: creator, group: { member_ids: [m1] } });
    if (c.ownerIndex(conversation.id) === 1) groupId = conversation.id;
  }
  t.not(groupId, '', 'a group owned by node 1');
  const api0 = grpcClient(t, c.nodes[0]!);
  const before = await forwardedFrom(c, 0);
  const same = await api0.syncGroupMembers({ conversation_id: groupId, member_ids: [creator, m1] });
  t.same([same.added_ids, same.removed_ids], [[], []], 'read through the owner: nothing to change');
  t.ok((await forwardedFrom(c, 0)) > before, 'node 0 asked node 1');
});
