// SyncBlocks: user_blocks becomes exactly the list, idempotently, and the actor
// of each changed pair's direct conversation reloads before its next operation
// (seen as a new ownership claim: owner_epoch moves by one).
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import pg from 'pg';
import { GrpcStatus as status, type Outgoing, type SyncBlocksRequest } from '@whispr/grpc';
import { WhisprError } from '@whispr/protocol';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

async function database(t: Test, url: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  return db;
}

t.test('the rows become the list; syncing it again changes nothing; an empty list removes all', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const db = await database(t, n.databaseUrl);
  const [user, b1, b2, b3] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const rows = async (): Promise<string[]> =>
    (await db.query<{ blocked_id: string }>('SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 ORDER BY blocked_id', [user])).rows.map((r) => r.blocked_id);
  const first = await api.syncBlocks({ user_id: user, blocked_ids: [b1, b2] });
  t.same(first, { added_ids: [b1, b2].sort(), removed_ids: [] }, 'two added');
  t.same(await rows(), [b1, b2].sort(), 'stored');
  t.same(await api.syncBlocks({ user_id: user, blocked_ids: [b2, b1] }), { added_ids: [], removed_ids: [] }, 'the same list again: nothing');
  t.same(await api.syncBlocks({ user_id: user, blocked_ids: [b2, b3] }), { added_ids: [b3], removed_ids: [b1] }, 'the difference');
  t.same(await rows(), [b2, b3].sort(), 'stored');
  t.same(await api.syncBlocks({ user_id: user, blocked_ids: [] }), { added_ids: [], removed_ids: [b2, b3].sort() }, 'empty: all removed');
  t.same(await rows(), [], 'none left');
});

t.test('bad fields are INVALID_ARGUMENT and write nothing', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const db = await database(t, n.databaseUrl);
  const user = randomUUID();
  const other = randomUUID();
  const cases: [string, Outgoing<SyncBlocksRequest>][] = [
    ['no user', { blocked_ids: [other] }],
    ['a user id that is no UUID', { user_id: 'u1', blocked_ids: [other] }],
    ['the nil id', { user_id: '00000000-0000-0000-0000-000000000000', blocked_ids: [other] }],
    ['oneself', { user_id: user, blocked_ids: [user] }],
    ['a duplicate', { user_id: user, blocked_ids: [other, other] }],
    ['a bad blocked id', { user_id: user, blocked_ids: [other, 'x'] }],
    ['over the bound', { user_id: user, blocked_ids: Array.from({ length: 10_001 }, () => randomUUID()) }],
  ];
  for (const [what, req] of cases) {
    const s = await statusOf(api.syncBlocks(req));
    t.equal(s.code, status.INVALID_ARGUMENT, `${what}: ${s.details}`);
  }
  t.equal((await db.query('SELECT count(*)::int AS n FROM user_blocks')).rows[0].n, 0, 'nothing written');
});

t.test('the changed pair’s direct conversation reloads before its next send; other conversations do not', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const db = await database(t, n.databaseUrl);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const withBob = (await a.direct(bob)).conversation.id;
  const withCarol = (await a.direct(carol)).conversation.id;
  await a.send(withBob, { content: 'hi' });
  await a.send(withCarol, { content: 'hi' });
  const epoch = async (id: string): Promise<number> => (await db.query<{ e: number }>('SELECT owner_epoch::int AS e FROM conversations WHERE id = $1', [id])).rows[0]!.e;
  const before = { bob: await epoch(withBob), carol: await epoch(withCarol) };
  await api.syncBlocks({ user_id: bob, blocked_ids: [alice] });
  const refused = await a.send(withBob, { content: 'after the block' }).then(() => 'sent', (err: unknown) => (err instanceof WhisprRequestError ? err.code : String(err)));
  t.equal(refused, 'forbidden', 'the blocked sender is refused at its very next send');
  await a.send(withCarol, { content: 'unaffected' });
  t.equal(await epoch(withBob), before.bob + 1, 'the pair’s actor reloaded (claimed again) at its next operation');
  t.equal(await epoch(withCarol), before.carol, 'another conversation’s actor kept its state');
  await api.syncBlocks({ user_id: bob, blocked_ids: [] });
  await a.send(withBob, { content: 'unblocked' });
  t.equal(await epoch(withBob), before.bob + 2, 'unblocking reloads it too, and the send goes through');
});

t.test('internal.blocks.changed is no client op, nor a user principal’s', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const asClient = await a.request('internal.blocks.changed', { conversation_id: conversation.id }).then(() => 'ok', (err: unknown) => (err instanceof WhisprError ? err.message : String(err)));
  t.match(asClient, /unknown op/, 'a socket is told it is an unknown op');
  const asUser = await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'internal.blocks.changed', conversation_id: conversation.id }).then(() => 'ok', (err: unknown) => (err instanceof WhisprError ? err.code : String(err)));
  t.equal(asUser, 'bad_request', 'a user principal cannot run it');
});
