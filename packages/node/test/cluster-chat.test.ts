// Users on different nodes chat: requests reach their owner wherever it runs,
// events reach every member's connections on every node, the offline queue and
// sync work from any node.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { directConversationId } from '@whispr/store';
import type { WhisprClient } from '@whispr/client';
import type { Message } from '@whispr/protocol';
import { startTestCluster, type TestCluster } from './helpers/test-cluster.ts';

/** A pair of users whose direct conversation the node `owner` owns. */
function pairOwnedBy(c: TestCluster, owner: number): [string, string] {
  for (;;) {
    const pair: [string, string] = [randomUUID(), randomUUID()];
    if (c.ownerIndex(directConversationId(pair[0], pair[1])) === owner) return pair;
  }
}

function collect(c: WhisprClient): Message[] {
  const got: Message[] = [];
  c.on('msg.new', (ev) => got.push(ev.message));
  return got;
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('a direct conversation owned by a third node: sends, events and receipts cross nodes', async (t) => {
  const c = await startTestCluster(t, 3);
  const [alice, bob] = pairOwnedBy(c, 2);
  const a = await c.connect(alice, 0);
  const b = await c.connect(bob, 1, 'msgpack');
  const atA = collect(a);
  const atB = collect(b);
  const { conversation } = await a.direct(bob);
  t.equal(c.ownerIndex(conversation.id), 2, 'owned by neither client’s node');
  const acks = [];
  for (let i = 0; i < 20; i++) acks.push(await a.send(conversation.id, { content: `hi ${i}` }));
  t.same(acks.map((x) => x.message.seq), Array.from({ length: 20 }, (_, i) => i + 1), 'acked in order');
  await until('bob has all 20', () => atB.length === 20);
  await until('alice has her own 20', () => atA.length === 20);
  t.same(atB.map((m) => m.seq), acks.map((x) => x.message.seq), 'bob got each once, in order');
  const receipt = a.waitFor('receipt', (ev) => ev.user_id === bob);
  await b.markRead(conversation.id, 20);
  t.equal((await receipt).up_to_seq, 20, 'the receipt event crossed back');
  t.equal((await b.history(conversation.id)).messages.length, 20, 'history from a non-owner node');
});

t.test('a group spread over three nodes with several senders: every member connection gets every message once, seqs 1..N', async (t) => {
  const c = await startTestCluster(t, 3);
  const users = Array.from({ length: 6 }, () => randomUUID());
  const clients = await Promise.all(users.map((u, i) => c.connect(u, i % 3, i % 2 ? 'msgpack' : 'json')));
  const received = clients.map(collect);
  const first = clients[0];
  if (!first) throw new Error('no client');
  const { conversation } = await first.group(users.slice(1));
  const perSender = 15;
  await Promise.all(clients.slice(0, 4).map(async (client, s) => {
    for (let i = 0; i < perSender; i++) await client.send(conversation.id, { content: `s${s} m${i}` });
  }));
  const total = 4 * perSender;
  await until('every member has every message', () => received.every((r) => r.length >= total));
  await new Promise((r) => setTimeout(r, 200));
  received.forEach((r, i) => {
    t.equal(r.length, total, `member ${i} got ${total} messages, no duplicates`);
    t.same(r.map((m) => m.seq).sort((x, y) => x - y), Array.from({ length: total }, (_, k) => k + 1), `member ${i}: seqs 1..${total}`);
  });
});

t.test('a member offline everywhere gets the message queued, delivered on connecting to any node; sync works from any node', async (t) => {
  const c = await startTestCluster(t, 2);
  const [alice, bob] = pairOwnedBy(c, 1);
  const a = await c.connect(alice, 1);
  const { conversation } = await a.direct(bob);
  for (let i = 0; i < 3; i++) await a.send(conversation.id, { content: `while away ${i}` });
  const b = await c.connect(bob, 0);
  const queued = collect(b);
  await until('bob got the queued messages', () => queued.length === 3);
  t.same(queued.map((m) => m.seq), [1, 2, 3]);
  const synced = await b.sync([{ conversation_id: conversation.id, after_seq: 1 }]);
  t.same(synced.conversations[0]?.messages.map((m) => m.seq), [2, 3], 'sync from the node that does not own it');
  // Bob, now online on node 0, gets live messages from the owner on node 1.
  await a.send(conversation.id, { content: 'live' });
  await until('bob got the live one', () => queued.some((m) => m.seq === 4));
});
