// What PostgreSQL would refuse is refused at the edge, naming the field, and
// fails alone; requests for conversations that do not exist are cheap and
// rate-limited; a member's settings are theirs alone.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Packr } from 'msgpackr';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { msgpackMap, rawReply } from './helpers/raw.ts';

const packr = new Packr({ useRecords: false });
const mp = (value: unknown): Uint8Array => packr.pack(value);
const codeOf = (err: unknown): string => (err instanceof WhisprRequestError ? err.code : String(err));

t.test('NUL characters, lone surrogates and bad UTF-8 are bad_request naming the field; other sends commit', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const am = await n.connect(alice, 'msgpack');
  const c = await n.connect(carol);
  const { conversation } = await a.direct(bob);
  const other = (await c.direct(bob)).conversation;

  // Pipelined together, so without the edge checks they would share one batch.
  const [nul, ok1, ok2] = await Promise.allSettled([
    a.send(conversation.id, { content: 'x', metadata: { note: 'a\u0000b' } }),
    c.send(other.id, { content: 'unrelated' }),
    a.send(conversation.id, { content: 'fine' }),
  ]);
  t.equal(nul.status === 'rejected' && codeOf(nul.reason), 'bad_request', 'NUL in metadata');
  t.equal(nul.status === 'rejected' && (nul.reason as WhisprRequestError).details.field, 'metadata', 'naming the field');
  t.equal(ok1.status, 'fulfilled', 'another user’s send in the same turn committed');
  t.equal(ok2.status, 'fulfilled', 'the sender’s next send committed');

  const surrogate = `{"id":"s","op":"msg.send","conversation_id":"${conversation.id}","client_random":7,"type":"media","content":"aGk=","attachments":[{"media_id":"${randomUUID()}","media_type":"image/\\ud800"}]}`;
  const r1 = await rawReply(a, surrogate, false);
  t.equal(r1.error?.code, 'bad_request', 'lone surrogate in media_type');
  t.equal(r1.error?.field, 'attachments');

  const badUtf8 = msgpackMap([
    [mp('id'), mp('u')], [mp('op'), mp('msg.send')], [mp('conversation_id'), mp(conversation.id)], [mp('client_random'), mp(8)],
    [mp('type'), mp('text')], [mp('content'), mp(Buffer.from('hi'))], [mp('metadata'), msgpackMap([[mp('k'), Buffer.from([0xa2, 0xc3, 0x28])]])],
  ]);
  const r2 = await rawReply(am, badUtf8, true);
  t.equal(r2.error?.code, 'bad_request', 'invalid UTF-8 in a MessagePack string');
  t.equal(r2.error?.field, 'metadata');
  t.equal(r2.re, 'u');

  const history = await a.history(conversation.id);
  t.same(history.messages.map((m) => Buffer.from(m.content).toString()), ['fine'], 'only the good message is stored');
});

t.test('requests for conversations that do not exist are cheap and rate-limited like sends', async (t) => {
  const n = await startTestNode(t, { workers: 1, limits: { send_rate_per_s: 1, send_burst: 50 } });
  const [prober, alice, bob] = [randomUUID(), randomUUID(), randomUUID()];
  const p = await n.connect(prober);
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  // In waves of 20 pipelined requests: the budget is charged as the not_found answers come back.
  const codes: string[] = [];
  for (let wave = 0; wave < 20; wave++) {
    codes.push(...(await Promise.all(Array.from({ length: 20 }, () => p.history(randomUUID()).then(() => 'ok', codeOf)))));
  }
  const notFound = codes.filter((c) => c === 'not_found').length;
  const limited = codes.filter((c) => c === 'rate_limited').length;
  t.equal(notFound + limited, 400, 'each answered not_found or rate_limited');
  t.ok(limited > 0, `probing is rate-limited (${notFound} not_found, ${limited} rate_limited)`);
  // The burst, what refilled meanwhile (1/s), and at most one wave in flight when it ran out.
  t.ok(notFound <= 50 + 20 + 20, `not_found answers bounded by the budget (${notFound})`);
  const err = await p.history(randomUUID()).catch((e: unknown) => e);
  t.ok(err instanceof WhisprRequestError && err.code === 'rate_limited' && Number(err.details.retry_after_ms) > 0, 'with retry_after_ms');

  t.ok((await a.send(conversation.id, { content: 'unaffected' })).message.seq >= 1, 'others are unaffected');
  await new Promise((r) => setTimeout(r, 1200)); // stats arrive every second
  const metrics = await (await fetch(`${n.node.httpUrl}/metrics`)).text();
  const actors = [...metrics.matchAll(/^whispr_shard_actors\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  t.ok(actors <= 3, `no actor kept for ids that do not exist (${actors} live)`);
});

t.test('a member sees their own settings and nobody else\'s', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.group([bob]);
  const pg = await import('pg');
  const db = new pg.default.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  await db.query(`UPDATE conversation_members SET settings = '{"muted_until": 123}' WHERE conversation_id = $1`, [conversation.id]);
  for (const [client, me] of [[a, alice], [b, bob]] as const) {
    const seen = (await client.list()).conversations[0]?.conversation.members ?? [];
    for (const m of seen) {
      if (m.user_id === me) t.same(m.settings, { muted_until: 123 }, 'own settings shown');
      else t.equal(m.settings, undefined, 'another member’s settings hidden');
    }
  }
  const got = await b.get(conversation.id);
  t.equal(got.conversation.members.find((m) => m.user_id === alice)?.settings, undefined, 'conv.get hides others’ settings');
});
