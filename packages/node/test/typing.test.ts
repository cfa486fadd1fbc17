// typing (PROTOCOL.md §5, §6): events to the other members online, never to the
// typer; a start lapses after 5 s with a `stop` from the service; an explicit stop
// cancels that; the record is Redis `typing:{conversationId}:{userId}` (TTL 5 s)
// and nothing reaches PostgreSQL; non-members and removed members are refused.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { WhisprClient } from '@whispr/client';
import type { TypingEvent } from '@whispr/protocol';
import { startTestNode } from './helpers/test-node.ts';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (err: unknown) => (err as { code?: string }).code ?? String(err));

t.test('start and stop reach the other members, not the typer; nothing is written to PostgreSQL', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const aOther = await n.connect(alice, 'msgpack');
  const b = await n.connect(bob);
  const c = await n.connect(carol, 'msgpack');
  const { conversation } = await a.group([bob, carol]);
  const toTyper: TypingEvent[] = [];
  a.on('typing', (e) => toTyper.push(e));
  aOther.on('typing', (e) => toTyper.push(e));

  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const writes = async (): Promise<number> => {
    const r = await db.query<{ n: string }>('SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables');
    return Number(r.rows[0]?.n);
  };
  await db.query('SELECT pg_stat_clear_snapshot()');
  const before = await writes();

  const bStart = b.waitFor('typing', (e) => e.state === 'start');
  const cStart = c.waitFor('typing', (e) => e.state === 'start');
  t.same(await a.typing(conversation.id, 'start'), {});
  t.same(await bStart, { ev: 'typing', conversation_id: conversation.id, user_id: alice, state: 'start' });
  t.same(await cStart, { ev: 'typing', conversation_id: conversation.id, user_id: alice, state: 'start' }, 'MessagePack too');
  const key = `${n.redisPrefix}typing:{${conversation.id}}:${alice}`;
  const ttl = await n.redis.pttl(key);
  t.ok(ttl > 3000 && ttl <= 5000, `typing key with a 5 s TTL (${ttl} ms left)`);
  t.ok(Math.abs(Number(await n.redis.get(key)) - Date.now()) < 5000, 'its value is the start time');

  const bStop = b.waitFor('typing', (e) => e.state === 'stop');
  await a.typing(conversation.id, 'stop');
  t.match(await bStop, { user_id: alice, state: 'stop' });
  t.equal(await n.redis.exists(key), 0, 'an explicit stop removes the key');

  // Stats are flushed by backends at transaction end with some delay: give them time.
  await new Promise((r) => setTimeout(r, 1200));
  await db.query('SELECT pg_stat_clear_snapshot()');
  t.equal(await writes(), before, 'no row inserted, updated or deleted by typing');

  // A stop cancels the automatic one: nothing more arrives in the next 6 s.
  const late: TypingEvent[] = [];
  b.on('typing', (e) => late.push(e));
  await new Promise((r) => setTimeout(r, 6000));
  t.same(late, [], 'no automatic stop after an explicit one');
  t.same(toTyper, [], 'the typer’s own connections get nothing');
});

t.test('after 5 s without a repeat the service sends stop; a repeat restarts the 5 s', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);

  const events: { state: string; at: number }[] = [];
  b.on('typing', (e) => events.push({ state: e.state, at: Date.now() }));
  await a.typing(conversation.id, 'start');
  await new Promise((r) => setTimeout(r, 2000));
  const repeatedAt = Date.now();
  await a.typing(conversation.id, 'start');
  const stop = await b.waitFor('typing', (e) => e.state === 'stop', 10_000);
  const stoppedAt = Date.now();
  t.match(stop, { conversation_id: conversation.id, user_id: alice, state: 'stop' });
  const after = stoppedAt - repeatedAt;
  t.ok(after >= 5000 && after <= 6500, `stop ${after} ms after the last start (5 to 6.5 s)`);
  t.same(events.map((e) => e.state), ['start', 'start', 'stop'], 'each start is sent, then one stop');
});

t.test('non-members, removed members and unknown conversations are refused; an expired token is unauthorized', async (t) => {
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 1000 });
  const [alice, bob, carol, mallory] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const c = await n.connect(carol);
  const m = await n.connect(mallory);
  const { conversation } = await a.group([bob, carol]);
  const seenByAlice: TypingEvent[] = [];
  a.on('typing', (e) => seenByAlice.push(e));

  t.equal(await codeOf(m.typing(conversation.id, 'start')), 'forbidden', 'a non-member: forbidden');
  t.equal(await codeOf(m.typing(randomUUID(), 'start')), 'not_found', 'no such conversation: not_found');
  t.equal(await codeOf(m.request('typing', { conversation_id: conversation.id, state: 'maybe' as 'start' })), 'bad_request', 'a bad state');

  // Carol removed (written directly in PostgreSQL, as a removal by another path would leave it), then the actor reloads.
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  await db.query('UPDATE conversation_members SET is_active = false WHERE conversation_id = $1 AND user_id = $2', [conversation.id, carol]);
  await new Promise((r) => setTimeout(r, 3500));
  t.equal(await codeOf(c.typing(conversation.id, 'start')), 'forbidden', 'a removed member: forbidden');
  t.equal(await n.redis.exists(`${n.redisPrefix}typing:{${conversation.id}}:${carol}`), 0, 'nothing recorded for a refused typer');

  // An active member still may, and the removed one is no longer told.
  const toCarol: TypingEvent[] = [];
  c.on('typing', (e) => toCarol.push(e));
  const bHears = b.waitFor('typing');
  await a.typing(conversation.id, 'start');
  await a.typing(conversation.id, 'stop');
  t.match(await bHears, { user_id: alice });
  await new Promise((r) => setTimeout(r, 300));
  t.same(toCarol, [], 'a removed member gets no typing events');
  t.same(seenByAlice, [], 'nobody’s refused typing reached a member');

  // Expired token: a typing request racing the 4001 close is answered unauthorized.
  // At least 2 s ahead (exp is in whole seconds), long enough to connect first.
  const token = await n.token(bob, 3);
  const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp * 1000;
  const late = await WhisprClient.connect({ url: n.node.wsUrl, token });
  t.teardown(() => late.close().catch(() => undefined));
  const closed = late.waitFor('close', () => true, 15_000);
  await new Promise((r) => setTimeout(r, Math.max(0, exp - Date.now() + 30)));
  const code = await codeOf(late.typing(conversation.id, 'start'));
  t.not(code, 'ok', `a typing request after expiry is not run (${code})`);
  t.equal((await closed).code, 4001);
});
