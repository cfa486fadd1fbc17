// A conversation moved to a joining node and back when that node left (planned
// moves both ways). The first owner still holds its actor from before; every ring
// change starts a new ownership generation, so that actor claims the conversation
// again (and reloads it) before it answers: never from its memory of before, and
// without a first send refused by the seq key.
import { randomUUID, randomBytes } from 'node:crypto';
import t from 'tap';
import { pino } from 'pino';
import { DEFAULT_LIMITS } from '@whispr/protocol';
import { directConversationId } from '@whispr/store';
import { HashRing } from '@whispr/cluster';
import { startNode } from '../src/node.ts';
import { startTestCluster } from './helpers/test-cluster.ts';
import { REDIS_URL, TEST_SECRET } from './helpers/test-node.ts';

t.test('a conversation moved away by a join and back by the leave: the first owner answers as of now', async (t) => {
  const c = await startTestCluster(t, 2);
  const extraId = `n2-${randomBytes(2).toString('hex')}`;
  const slots = [...c.nodes.map((n) => `${n.nodeId}#0`)];
  const before = new HashRing(slots);
  const during = new HashRing([...slots, `${extraId}#0`]);
  let pair: [string, string] = ['', ''];
  for (;;) {
    pair = [randomUUID(), randomUUID()];
    const id = directConversationId(pair[0], pair[1]);
    if (before.ownerOf(id) === `${c.nodes[0]!.nodeId}#0` && during.ownerOf(id) === `${extraId}#0`) break;
  }
  const a = await c.connect(pair[0], 1);
  const { conversation } = await a.direct(pair[1]);
  await a.send(conversation.id, { content: 'one', clientRandom: 1 });
  t.equal((await a.get(conversation.id)).conversation.last_seq, 1, 'owner n0 answers last_seq 1');
  const extra = await startNode({
    port: 0, host: '127.0.0.1', databaseUrl: c.databaseUrl, redisUrl: REDIS_URL, redisPrefix: c.redisPrefix,
    jwt: { secret: TEST_SECRET, devSecret: false }, dev: false, workers: 1, shardWriters: 1, nodeId: extraId,
    logLevel: 'warn', limits: DEFAULT_LIMITS, socketBacklogBytes: 1024 * 1024, nodeGraceMs: 3000, logger: pino({ level: 'warn' }),
  });
  t.teardown(() => extra.stop());
  for (let i = 0; i < 100 && !c.nodes.every((n) => n.membership.liveNodes.length === 3); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 2; i <= 4; i++) await a.send(conversation.id, { content: `via extra ${i}`, clientRandom: i });
  t.equal((await a.get(conversation.id)).conversation.last_seq, 4, 'the new owner answers last_seq 4');
  await extra.stop();
  for (let i = 0; i < 100 && !c.nodes.every((n) => n.membership.liveNodes.length === 2); i++) await new Promise((r) => setTimeout(r, 50));
  const back = (await a.get(conversation.id)).conversation.last_seq;
  t.equal(back, 4, `back on n0, conv.get answers last_seq ${back}`);
  let unavailable = 0;
  for (;;) {
    try {
      const r = await a.send(conversation.id, { content: 'five', clientRandom: 5 });
      t.equal(r.message.seq, 5, 'the next send gets seq 5');
      t.equal(unavailable, 0, `and is not refused first (it was ${unavailable} time(s): the stale seq met the seq key)`);
      break;
    } catch (err) {
      unavailable++;
      if (unavailable > 5) throw err;
    }
  }
});
