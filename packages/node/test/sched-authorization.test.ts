// The authorization matrix of sched.create / sched.cancel / sched.list, and a
// sender no longer a member at the due time: not sent, marked failed.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { WhisprClient, WhisprRequestError } from '@whispr/client';
import { startTestNode, type TestNode } from './helpers/test-node.ts';
import { collect, rowOf, sleep, until } from './helpers/scheduled.ts';

const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: unknown) => (err instanceof WhisprRequestError ? err.code : `other: ${String(err)}`));

/** Marks a member removed in PostgreSQL (the members op is another branch's), then waits for the idle actor to be evicted so it reloads. */
async function removeMember(n: TestNode, conversationId: string, userId: string): Promise<void> {
  const client = new pg.Client({ connectionString: n.databaseUrl });
  await client.connect();
  await client.query('UPDATE conversation_members SET is_active = FALSE WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId]);
  await client.end();
  await sleep(2500);
}

t.test('who may create, cancel and list', async (t) => {
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 300 });
  const [alice, bob, carol, stranger] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const s = await n.connect(stranger);
  const { conversation } = await a.group([bob, carol]);
  const soon = (): number => Date.now() + 60_000;

  t.equal(await codeOf(a.scheduleMessage(conversation.id, Date.now() + 500, { content: 'x' })), 'bad_request', 'less than 1 s ahead');
  const early = await a.scheduleMessage(conversation.id, Date.now() + 200, { content: 'x' }).catch((e: unknown) => e);
  t.equal((early as WhisprRequestError).details.field, 'scheduled_for', 'names the field');
  t.equal(await codeOf(a.scheduleMessage(conversation.id, Date.now() - 1000, { content: 'x' })), 'bad_request', 'in the past');
  t.equal(await codeOf(s.scheduleMessage(conversation.id, soon(), { content: 'x' })), 'forbidden', 'non-member: forbidden');
  t.equal(await codeOf(s.scheduleMessage(randomUUID(), soon(), { content: 'x' })), 'not_found', 'no such conversation');
  t.equal(await codeOf(s.listScheduled(conversation.id)), 'forbidden', 'sched.list of a conversation the caller is not in');
  t.equal(await codeOf(s.listScheduled(randomUUID())), 'not_found', 'sched.list of no conversation');

  const pending = await a.scheduleMessage(conversation.id, soon(), { content: 'pending' });
  t.equal(await codeOf(s.cancelScheduled(conversation.id, pending.scheduled.id)), 'forbidden', 'non-member cancel: forbidden');
  const listed = await s.listScheduled();
  t.same(listed.scheduled, [], 'a stranger lists nothing of it');

  const c = await n.connect(carol);
  await removeMember(n, conversation.id, carol);
  t.equal(await codeOf(c.scheduleMessage(conversation.id, soon(), { content: 'x' })), 'forbidden', 'removed member: forbidden');
  t.equal(await codeOf(c.listScheduled(conversation.id)), 'forbidden', 'removed member lists: forbidden');

  // Expired token: the request racing the expiry is refused (PROTOCOL.md §2).
  const shortLived = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(alice, 2) });
  await sleep(2500);
  t.not(await codeOf(shortLived.scheduleMessage(conversation.id, soon(), { content: 'x' })), 'ok', 'expired token: refused');
  await shortLived.close().catch(() => undefined /* closed by the server */);
});

t.test('a sender removed before the due time: not sent, marked failed', async (t) => {
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 300 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const c = await n.connect(carol);
  const { conversation } = await a.group([bob, carol]);
  const atAlice = collect(a, conversation.id);
  const { scheduled } = await c.scheduleMessage(conversation.id, Date.now() + 3500, { content: 'too late' });
  await removeMember(n, conversation.id, carol);
  await until('marked failed', async () => (await rowOf(n.databaseUrl, scheduled.id))?.failed_at !== null, 10_000);
  const row = await rowOf(n.databaseUrl, scheduled.id);
  t.equal(row?.is_sent, false, 'not sent');
  t.match(row?.failure ?? '', /^forbidden/, `with its reason (${row?.failure})`);
  t.same(atAlice, [], 'nobody got it');
});
