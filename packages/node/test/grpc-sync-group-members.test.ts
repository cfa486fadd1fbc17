// SyncGroupMembers: the group's active members become the list, through the
// owner as conv.members.add / remove run by the service (system messages), and
// syncing the same list again changes nothing.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { GrpcStatus as status } from '@whispr/grpc';
import { startTestNode } from './helpers/test-node.ts';
import { grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

t.test('a list equal to the members changes nothing; bad requests are refused before anything routes', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const [creator, m1] = [randomUUID(), randomUUID()];
  const { conversation } = await api.createConversation({ acting_user_id: creator, group: { member_ids: [m1] } });
  const same = await api.syncGroupMembers({ conversation_id: conversation.id, member_ids: [m1, creator] });
  t.same([same.added_ids, same.removed_ids], [[], []], 'nothing to add or remove');
  t.equal(same.conversation.last_seq, conversation.last_seq, 'no system message taken a seq');
  t.equal((await statusOf(api.syncGroupMembers({ conversation_id: randomUUID(), member_ids: [m1] }))).code, status.NOT_FOUND, 'no such conversation');
  const direct = (await api.createConversation({ acting_user_id: creator, direct: { other_user_id: m1 } })).conversation;
  t.equal((await statusOf(api.syncGroupMembers({ conversation_id: direct.id, member_ids: [m1] }))).code, status.INVALID_ARGUMENT, 'a direct conversation');
  for (const [what, member_ids] of [
    ['an empty list', []],
    ['a duplicate', [m1, m1]],
    ['a bad id', [m1, 'x']],
    ['the nil id', ['00000000-0000-0000-0000-000000000000']],
    ['over the bound', Array.from({ length: 1001 }, () => randomUUID())],
  ] as [string, string[]][]) {
    t.equal((await statusOf(api.syncGroupMembers({ conversation_id: conversation.id, member_ids }))).code, status.INVALID_ARGUMENT, what);
  }
  t.equal((await statusOf(api.syncGroupMembers({ conversation_id: 'g', member_ids: [m1] }))).code, status.INVALID_ARGUMENT, 'a bad conversation id');
});

t.test('the difference is applied with system messages, and syncing it again changes nothing', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const [creator, stays, leaves, joins] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const { conversation } = await api.createConversation({ acting_user_id: creator, group: { member_ids: [stays, leaves] } });
  const watcher = await n.connect(stays);
  const first = await api.syncGroupMembers({ conversation_id: conversation.id, member_ids: [creator, stays, joins] }).then(
    (res) => res,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  if (first instanceof Error) throw first;
  t.same([first.added_ids, first.removed_ids], [[joins], [leaves]], 'one added, one removed');
  const active = first.conversation.members.filter((m) => m.is_active).map((m) => m.user_id).sort();
  t.same(active, [creator, stays, joins].sort(), 'the active members are the list');
  t.equal(first.conversation.last_seq, conversation.last_seq + 2, 'two system messages, each with its seq');
  const history = await watcher.history(conversation.id);
  t.same(history.messages.map((m) => m.type), ['system', 'system'], 'members saw both as system messages');
  const again = await api.syncGroupMembers({ conversation_id: conversation.id, member_ids: [joins, stays, creator] });
  t.same([again.added_ids, again.removed_ids], [[], []], 'the same list again: nothing');
  t.equal(again.conversation.last_seq, first.conversation.last_seq, 'and no new seq');
  const gone = await n.connect(leaves);
  await t.rejects(gone.get(conversation.id), { code: 'forbidden' }, 'the removed member is no longer a member');
});
