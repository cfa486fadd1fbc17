// Retention through the owner: a run expires exactly what the policy says
// (older messages of conversations with a policy), as tombstones keeping their
// seqs, and the members online hear msg.deleted for each.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import t from 'tap';
import { WhisprError, type Message, type MsgDeletedEvent } from '@whispr/protocol';
import { setRetentionPolicy } from '@whispr/store';
import { runRetention } from '@whispr/jobs';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode, type TestNode } from './helpers/test-node.ts';

const DAY_MS = 24 * 3600_000;

async function conversationWith(n: TestNode, alice: string, count: number): Promise<string> {
  const a = await n.connect(alice);
  const { conversation } = await a.direct(randomUUID());
  for (let i = 1; i <= count; i++) {
    await a.send(conversation.id, {
      content: Buffer.from(`message ${i}`), metadata: { n: i },
      ...(i === 1 ? { attachments: [{ media_id: randomUUID(), media_type: 'image/png' }] } : {}),
    });
  }
  return conversation.id;
}

/** Moves the given seqs' sent_at `days` into the past (the messages were "sent" then). */
async function age(db: pg.Client, conversationId: string, upToSeq: number, days: number): Promise<void> {
  await db.query(`UPDATE messages SET sent_at = sent_at - make_interval(days => $3) WHERE conversation_id = $1 AND seq <= $2`, [conversationId, upToSeq, days]);
}

t.test('only expired messages of conversations with a policy become tombstones, seqs kept, events to members online', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = new pg.Client({ connectionString: n.databaseUrl, options: '-c timezone=UTC' });
  await db.connect();
  t.teardown(() => db.end());
  const alice = randomUUID();
  const withPolicy = await conversationWith(n, alice, 5);
  const withoutPolicy = await conversationWith(n, alice, 3);
  await age(db, withPolicy, 3, 40);
  await age(db, withoutPolicy, 3, 40);
  await setRetentionPolicy(db, { conversationId: withPolicy, retentionDays: 30, retainMediaDays: null });

  const history = async (conversationId: string): Promise<Message[]> => (await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'msg.history', conversation_id: conversationId })).messages;
  const watcher = await n.connect(alice, 'msgpack');
  const deleted: MsgDeletedEvent[] = [];
  watcher.on('msg.deleted', (ev) => deleted.push(ev));
  const third = watcher.waitFor('msg.deleted', (ev) => ev.seq === 3);

  // Windows of 2 seqs: the run crosses several batches in the owner's line.
  const summary = await runRetention({ pg: db, calls: n.node.internal, logger: pino({ level: 'warn' }), now: Date.now(), batch: 2 });
  t.match(summary, { conversations: 1, expired: 3, failed: 0 }, 'one conversation, three messages expired');
  t.ok(summary.batches >= 2, `several batches (${summary.batches})`);

  const after = await history(withPolicy);
  t.same(after.map((m) => m.seq), [1, 2, 3, 4, 5], 'every seq still names a message');
  for (const m of after.slice(0, 3)) {
    t.match(m, { is_deleted: true, delete_for_everyone: true, metadata: {}, attachments: [] }, `seq ${m.seq} is a tombstone`);
    t.equal(m.content.byteLength, 0, `seq ${m.seq} has no content`);
  }
  for (const m of after.slice(3)) {
    t.match(m, { is_deleted: false, metadata: { n: m.seq } }, `seq ${m.seq} is untouched`);
    t.equal(Buffer.from(m.content).toString(), `message ${m.seq}`, `seq ${m.seq} keeps its content`);
  }
  const stored = await db.query<{ content: Buffer; n: string }>(
    `SELECT content, (SELECT count(*) FROM message_attachments a WHERE a.message_id = m.id) AS n FROM messages m WHERE conversation_id = $1 AND seq = 1`, [withPolicy]);
  t.equal(stored.rows[0]?.content.byteLength, 0, 'the content is gone from PostgreSQL, not only hidden');
  t.equal(stored.rows[0]?.n, '0', 'the attachment rows are removed');

  const untouched = await history(withoutPolicy);
  t.ok(untouched.every((m) => !m.is_deleted && Buffer.from(m.content).toString() === `message ${m.seq}`), 'a conversation without a policy keeps its old messages');
  t.ok(untouched[0]?.attachments.length === 1, 'and their attachments');

  await third;
  t.same(deleted.map((e) => [e.conversation_id, e.seq, e.for_everyone]), [[withPolicy, 1, true], [withPolicy, 2, true], [withPolicy, 3, true]], 'msg.deleted for each tombstone, in order');
  t.same(deleted.map((e) => e.message_id), after.slice(0, 3).map((m) => m.id), 'naming the messages');

  const next = await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'msg.send', conversation_id: withPolicy, client_random: 991, type: 'text', content: Buffer.from('after') });
  t.equal(next.message.seq, 6, 'the next send continues the sequence');

  const again = await runRetention({ pg: db, calls: n.node.internal, logger: pino({ level: 'warn' }), now: Date.now() });
  t.equal(again.expired, 0, 'a second run finds nothing more to expire');
});

t.test('media retention removes old attachments and keeps their messages', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = new pg.Client({ connectionString: n.databaseUrl, options: '-c timezone=UTC' });
  await db.connect();
  t.teardown(() => db.end());
  const alice = randomUUID();
  const conversationId = await conversationWith(n, alice, 2);
  await age(db, conversationId, 1, 10);
  await setRetentionPolicy(db, { conversationId, retentionDays: null, retainMediaDays: 7 });
  const summary = await runRetention({ pg: db, calls: n.node.internal, logger: pino({ level: 'warn' }), now: Date.now() });
  t.match(summary, { expired: 0, mediaRemoved: 1 }, 'one attachment removed, no message expired');
  const { messages } = await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'msg.history', conversation_id: conversationId });
  t.match(messages[0], { is_deleted: false, attachments: [] }, 'the message stays, without its attachment');
  t.equal(Buffer.from(messages[0]?.content ?? []).toString(), 'message 1', 'with its content');
});

t.test('retention.expire is the service’s alone: refused from a socket and to users', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const alice = randomUUID();
  const conversationId = await conversationWith(n, alice, 1);
  const fields = { conversation_id: conversationId, before: Date.now() + DAY_MS, media_before: null, after_seq: 0, limit: 10 };
  const a = await n.connect(alice);
  const fromSocket = await a.request('retention.expire', fields).then(() => null, (err: unknown) => err);
  t.ok(fromSocket instanceof WhisprRequestError && fromSocket.code === 'bad_request' && /unknown op/.test(fromSocket.message), 'a socket is answered as for an unknown op');
  const archiveFromSocket = await a.request('conv.archive', { conversation_id: conversationId, inactive_before: Date.now() }).then(() => null, (err: unknown) => err);
  t.ok(archiveFromSocket instanceof WhisprRequestError && archiveFromSocket.code === 'bad_request', 'conv.archive too');
  const asMember = await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'retention.expire', ...fields }).then(() => null, (err: unknown) => err);
  t.ok(asMember instanceof WhisprError && asMember.code === 'forbidden', 'an internal call as a member is forbidden');
  const missing = await n.node.internal.call({ kind: 'service' }, { op: 'retention.expire', ...fields, conversation_id: randomUUID() }).then(() => null, (err: unknown) => err);
  t.ok(missing instanceof WhisprError && missing.code === 'not_found', 'a missing conversation is not_found');
  const { messages } = await a.history(conversationId);
  t.equal(messages[0]?.is_deleted, false, 'nothing was expired by the refused calls');
  const ok = await n.node.internal.call({ kind: 'service' }, { op: 'retention.expire', ...fields });
  t.match(ok, { expired: 1, done: true }, 'the service may');
});

t.test('expired messages leave the offline queues of the conversation’s members', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = new pg.Client({ connectionString: n.databaseUrl, options: '-c timezone=UTC' });
  await db.connect();
  t.teardown(() => db.end());
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  for (let i = 1; i <= 5; i++) await a.send(conversation.id, { content: Buffer.from(`message ${i}`) });
  const queueKey = `${n.redisPrefix}delivery:queue:{${bob}}`;
  for (let i = 0; i < 100 && (await n.redis.zcard(queueKey)) < 5; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await n.redis.zcard(queueKey), 5, 'five queued for bob, who is offline');
  await age(db, conversation.id, 3, 40);
  await setRetentionPolicy(db, { conversationId: conversation.id, retentionDays: 30, retainMediaDays: null });
  const summary = await runRetention({ pg: db, calls: n.node.internal, logger: pino({ level: 'warn' }), now: Date.now(), batch: 2 });
  t.equal(summary.expired, 3, 'three expired');
  for (let i = 0; i < 100 && (await n.redis.zcard(queueKey)) > 2; i++) await new Promise((r) => setTimeout(r, 20));
  const left = await n.redis.zrange(queueKey, '0', '-1');
  t.same(left.map((m) => Number(m.slice(37, 49))), [4, 5], 'only the unexpired seqs stay queued');
  t.ok(left.every((m) => !m.includes(Buffer.from('message 1').toString('base64'))), 'no expired content is left in the queue');
});
