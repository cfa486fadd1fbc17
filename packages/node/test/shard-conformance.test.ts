/**
 * One contract, every shard implementation (shard.ts): a node whose shards are
 * worker threads (WHISPR_WORKERS=1) and one whose single shard runs in the main
 * thread (WHISPR_WORKERS=0) must behave the same to clients.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import type { MsgNewEvent } from '@whispr/protocol';
import { WhisprRequestError } from '@whispr/client';
import { InlineShard, ThreadShard } from '@whispr/actors';
import { startTestNode } from './helpers/test-node.ts';

const implementations = [
  { name: 'ThreadShard', workers: 1, type: ThreadShard },
  { name: 'InlineShard', workers: 0, type: InlineShard },
] as const;

for (const impl of implementations) {
  t.test(`${impl.name} (WHISPR_WORKERS=${impl.workers})`, async (t) => {
    const n = await startTestNode(t, { workers: impl.workers, limits: { send_burst: 5000, send_rate_per_s: 5000 } });
    t.equal(n.node.shards.length, 1, 'one shard');
    t.ok(n.node.shards[0] instanceof impl.type, `the shard is a ${impl.name}`);
    const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
    const a = await n.connect(alice);
    const b = await n.connect(bob, 'msgpack');
    const c = await n.connect(carol);

    // Live delivery, in both encodings.
    const bobSees = new Promise<MsgNewEvent>((resolve) => b.on('msg.new', resolve));
    const { conversation } = await a.group([bob, carol], { name: 'conformance' });
    const first = await a.send(conversation.id, { content: 'hello', clientRandom: 1 });
    t.equal(first.message.seq, 1);
    t.equal(Buffer.from((await bobSees).message.content).toString(), 'hello', 'delivered live');

    // Idempotency: the retry answers with the first ack and takes no seq.
    const retry = await a.send(conversation.id, { content: 'hello', clientRandom: 1 });
    t.equal(retry.duplicate, true);
    t.same(retry.message, first.message);

    // Pipelined senders: seqs exactly 2..N+1, each sender's in the order sent.
    const perSender = 150;
    const acks = await Promise.all([a, b, c].map((cl, s) => Promise.all(Array.from({ length: perSender }, (_, i) => cl.send(conversation.id, { content: `s${s} m${i}` })))));
    const seqs = acks.flat().map((x) => x.message.seq).sort((x, y) => x - y);
    t.same(seqs, Array.from({ length: 3 * perSender }, (_, i) => i + 2), 'gap-free seqs');
    for (const list of acks) t.same(list.map((x) => x.message.seq), list.map((x) => x.message.seq).sort((x, y) => x - y), 'ordered per sender');
    const last = 3 * perSender + 1;

    // Receipts, then the list's unread count reflects them.
    await b.markRead(conversation.id, last - 10);
    const listed = (await b.list()).conversations.find((x) => x.conversation.id === conversation.id);
    // Bob's own messages are never unread for him.
    const unread = [acks[0], acks[2]].flatMap((list) => list ?? []).filter((x) => x.message.seq > last - 10).length;
    t.equal(listed?.unread_count, unread, 'unread after a read receipt: the others’ messages after it');

    // Sync returns what was missed.
    const synced = await c.sync([{ conversation_id: conversation.id, after_seq: last - 5 }]);
    t.same(synced.conversations[0]?.messages.map((m) => m.seq), [last - 4, last - 3, last - 2, last - 1, last]);

    // A graceful stop commits what was acknowledged: everything is in PostgreSQL.
    const db = new pg.Client({ connectionString: n.databaseUrl });
    await db.connect();
    t.teardown(() => db.end());
    const stored = await db.query<{ n: string; max: string }>('SELECT count(*) AS n, max(seq) AS max FROM messages WHERE conversation_id = $1', [conversation.id]);
    t.equal(Number(stored.rows[0]!.n), last, 'stored once each');
    t.equal(Number(stored.rows[0]!.max), last);
  });
}

for (const impl of implementations) {
  t.test(`${impl.name}: a graceful stop under load loses nothing acknowledged`, async (t) => {
    const n = await startTestNode(t, { workers: impl.workers, limits: { send_burst: 5000, send_rate_per_s: 5000 } });
    const [alice, bob] = [randomUUID(), randomUUID()];
    const a = await n.connect(alice);
    const { conversation } = await a.direct(bob);
    const acked: number[] = [];
    const refused: string[] = [];
    const sends = Array.from({ length: 2000 }, (_, i) =>
      a.send(conversation.id, { content: `m${i}` }).then(
        (r) => void acked.push(r.message.seq),
        // Cut off by the stop: never acknowledged, so free to be stored or not.
        (err: unknown) => void refused.push(err instanceof WhisprRequestError ? err.code : 'connection closed'),
      ),
    );
    while (acked.length < 100) await new Promise((r) => setTimeout(r, 1));
    await n.node.stop();
    await Promise.all(sends);

    const db = new pg.Client({ connectionString: n.databaseUrl });
    await db.connect();
    t.teardown(() => db.end());
    const stored = await db.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
    const seqs = stored.rows.map((r) => Number(r.seq));
    t.same(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'stored seqs are gap-free');
    const missing = acked.filter((s) => !seqs.includes(s));
    t.same(missing, [], `every acknowledged send is stored (${acked.length} acknowledged, ${seqs.length} stored)`);
    t.equal(seqs.length, acked.length, 'what was handed to the shard before the stop was answered before the sockets closed');
    t.ok(refused.every((code) => code === 'unavailable' || code === 'connection closed'), 'the rest were refused as unavailable or cut off');
  });
}
