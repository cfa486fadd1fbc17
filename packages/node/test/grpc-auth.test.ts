// Every call of the internal gRPC API needs the shared bearer token: without it,
// with a wrong one or in the wrong form it is UNAUTHENTICATED before its fields
// are even looked at; with it, the call reaches validation.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { GrpcStatus as status, type MessagingClient } from '@whispr/grpc';
import { startTestNode } from './helpers/test-node.ts';
import { GRPC_TOKEN, grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

const calls: Record<string, (c: MessagingClient) => Promise<unknown>> = {
  CreateConversation: (c) => c.createConversation({ acting_user_id: randomUUID(), direct: { other_user_id: randomUUID() } }),
  SyncGroupMembers: (c) => c.syncGroupMembers({ conversation_id: randomUUID(), member_ids: [randomUUID()] }),
  GetMessageMetadata: (c) => c.getMessageMetadata({ conversation_id: randomUUID(), message_id: randomUUID() }),
  SyncBlocks: (c) => c.syncBlocks({ user_id: randomUUID(), blocked_ids: [] }),
};

t.test('no token, a wrong one, or one in the wrong form: UNAUTHENTICATED on every call', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const clients = {
    'no token': grpcClient(t, n.node, { token: undefined }),
    'a wrong token': grpcClient(t, n.node, { token: 'grpc-test-token-0123456788' }),
    'a prefix of the token': grpcClient(t, n.node, { token: GRPC_TOKEN.slice(0, -1) }),
    'an empty token': grpcClient(t, n.node, { token: '' }),
  };
  for (const [what, client] of Object.entries(clients)) {
    for (const [name, call] of Object.entries(calls)) {
      const s = await statusOf(call(client));
      t.equal(s.code, status.UNAUTHENTICATED, `${name} with ${what}`);
    }
  }
});

t.test('with the token, every call gets past authentication', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const client = grpcClient(t, n.node);
  for (const [name, call] of Object.entries(calls)) {
    const s = await statusOf(call(client));
    t.not(s.code, status.UNAUTHENTICATED, `${name}: ${s.code} ${s.details}`);
  }
  t.equal((await statusOf(client.syncBlocks({ user_id: randomUUID(), blocked_ids: [] }))).code, status.OK, 'SyncBlocks of nobody succeeds');
});

t.test('a node without grpc configured serves none', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  t.equal(n.node.grpcPort, null, 'no port');
});
