// CreateConversation: a direct or group conversation made on behalf of a user,
// through the owner, visible to its members over WebSockets; every bad field is
// INVALID_ARGUMENT before anything is created.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { GrpcStatus as status } from '@whispr/grpc';
import { directConversationId } from '@whispr/store';
import { startTestNode } from './helpers/test-node.ts';
import { grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

t.test('a direct conversation for a pair, the same one when asked again, readable by both', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const { conversation } = await api.createConversation({ acting_user_id: alice, direct: { other_user_id: bob } });
  t.equal(conversation.id, directConversationId(alice, bob), 'at the pair’s id');
  t.equal(conversation.type, 'direct');
  t.same(conversation.members.map((m) => m.user_id).sort(), [alice, bob].sort(), 'both members');
  t.ok(conversation.created_at > 0 && conversation.is_active, 'created, active');
  const again = await api.createConversation({ acting_user_id: bob, direct: { other_user_id: alice } });
  t.equal(again.conversation.id, conversation.id, 'asked again from the other side: the same conversation');
  const b = await n.connect(bob);
  t.equal((await b.get(conversation.id)).conversation.id, conversation.id, 'bob reads it over WebSockets');
});

t.test('a group on behalf of its creator, with external id and metadata', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const [creator, m1, m2] = [randomUUID(), randomUUID(), randomUUID()];
  const externalGroupId = randomUUID();
  const { conversation } = await api.createConversation({
    acting_user_id: creator, group: { member_ids: [m1, m2], external_group_id: externalGroupId, metadata_json: '{"name":"ops"}' },
  });
  t.equal(conversation.type, 'group');
  t.equal(conversation.external_group_id, externalGroupId, 'the user-service’s id kept');
  t.equal(conversation.members.find((m) => m.user_id === creator)?.role, 'admin', 'the creator is admin');
  t.same(conversation.members.map((m) => m.user_id).sort(), [creator, m1, m2].sort(), 'every member');
  const c = await n.connect(m2);
  const got = await c.get(conversation.id);
  t.same(got.conversation.metadata, { name: 'ops' }, 'metadata stored');
  const plain = await api.createConversation({ acting_user_id: creator, group: { member_ids: [m1] } });
  t.equal(plain.conversation.external_group_id, '', 'no external id: empty');
});

t.test('bad fields are INVALID_ARGUMENT and create nothing', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const user = randomUUID();
  const cases: [string, Parameters<typeof api.createConversation>[0]][] = [
    ['no kind', { acting_user_id: user }],
    ['no acting user', { direct: { other_user_id: randomUUID() } }],
    ['acting user not a UUID', { acting_user_id: 'alice', direct: { other_user_id: randomUUID() } }],
    ['an uppercase UUID', { acting_user_id: user.toUpperCase(), direct: { other_user_id: randomUUID() } }],
    ['the service’s nil id', { acting_user_id: '00000000-0000-0000-0000-000000000000', direct: { other_user_id: randomUUID() } }],
    ['a direct with oneself', { acting_user_id: user, direct: { other_user_id: user } }],
    ['a direct with no other', { acting_user_id: user, direct: { other_user_id: '' } }],
    ['a group member not a UUID', { acting_user_id: user, group: { member_ids: ['x'] } }],
    ['a group member twice', { acting_user_id: user, group: { member_ids: [randomUUID(), ...Array(2).fill(randomUUID())] } }],
    ['a group naming its creator', { acting_user_id: user, group: { member_ids: [user] } }],
    ['a group over the bound', { acting_user_id: user, group: { member_ids: Array.from({ length: 1000 }, () => randomUUID()) } }],
    ['a bad external id', { acting_user_id: user, group: { member_ids: [], external_group_id: 'g1' } }],
    ['metadata not JSON', { acting_user_id: user, group: { member_ids: [], metadata_json: '{' } }],
    ['metadata not an object', { acting_user_id: user, group: { member_ids: [], metadata_json: '[1]' } }],
    ['metadata too large', { acting_user_id: user, group: { member_ids: [], metadata_json: JSON.stringify({ x: 'y'.repeat(9000) }) } }],
  ];
  for (const [what, req] of cases) {
    const s = await statusOf(api.createConversation(req));
    t.equal(s.code, status.INVALID_ARGUMENT, `${what}: ${s.details}`);
  }
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  t.equal((await db.query('SELECT count(*)::int AS n FROM conversations')).rows[0].n, 0, 'nothing created');
});
