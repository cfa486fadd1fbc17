import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { MsgNewEvent } from '@whispr/protocol';
import { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

t.test('messages for an offline member are queued and arrive on connect, before live ones', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  for (let i = 1; i <= 5; i++) await a.send(conversation.id, { content: `offline ${i}` });

  const queueKey = `${n.redisPrefix}delivery:queue:{${bob}}`;
  // The queue is written right after the commit, beside the ack: wait for it.
  for (let i = 0; i < 50 && (await n.redis.zcard(queueKey)) < 5; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await n.redis.zcard(queueKey), 5, 'five entries queued for bob');
  t.ok((await n.redis.ttl(queueKey)) > 6 * 24 * 3600, 'the queue expires after about 7 days');

  for (const encoding of ['msgpack', 'json'] as const) {
    const got: MsgNewEvent[] = [];
    const b = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(bob), encoding });
    b.on('msg.new', (ev) => got.push(ev));
    const live = a.send(conversation.id, { content: `live ${encoding}` });
    await live;
    await new Promise((r) => setTimeout(r, 300));
    const texts = got.map((e) => Buffer.from(e.message.content).toString());
    t.same(texts.slice(0, 5), ['offline 1', 'offline 2', 'offline 3', 'offline 4', 'offline 5'], `${encoding}: queued first, in order`);
    t.equal(texts[texts.length - 1], `live ${encoding}`, `${encoding}: the live one after`);
    await b.close();
  }
  t.equal(await n.redis.zcard(queueKey), 5, 'entries stay until acknowledged; live messages to a connected user are not queued');

  const b = await n.connect(bob);
  const last = (await b.get(conversation.id)).conversation.last_seq;
  await b.markDelivered(conversation.id, last);
  t.equal(await n.redis.zcard(queueKey), 0, 'receipt.delivered empties the queue');
});
