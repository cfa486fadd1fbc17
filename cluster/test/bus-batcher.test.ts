/**
 * BusBatcher over a real RedisPubSubBus: one payload per destination per turn,
 * bounds refused synchronously, and the receiving side splits what arrives.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { pino } from 'pino';
import { splitBatch } from '../src/bus-batch-format.ts';
import { BusBatcher } from '../src/bus-batcher.ts';
import type { RedisBusOptions } from '../src/bus-options.ts';
import { RedisPubSubBus } from '../src/bus-redis.ts';
import { SHARED_REDIS_URL, collect, randomPrefix, waitFor } from './helpers/bus-harness.ts';

const logger = pino({ level: 'silent' });
const prefix = randomPrefix();
const buses: RedisPubSubBus[] = [];
async function started(nodeId: string, extra: Partial<RedisBusOptions> = {}): Promise<RedisPubSubBus> {
  const bus = new RedisPubSubBus({ nodeId, prefix, redisUrl: SHARED_REDIS_URL, logger, ...extra });
  buses.push(bus);
  await bus.start();
  return bus;
}
t.teardown(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
});

t.test('one payload per destination per turn, items in order, copied when added', async (t) => {
  const [a, b, c] = await Promise.all([started('batch-a'), started('batch-b'), started('batch-c')]);
  const batcher = new BusBatcher({ bus: a, logger });
  const atB = collect(b);
  const atC = collect(c);
  const reused = Buffer.from('b-0');
  t.ok(batcher.add('batch-b', reused));
  reused.write('XXX'); // the caller's buffer changes after add (a uWebSockets.js frame would)
  for (let i = 1; i < 10; i++) t.ok(batcher.add('batch-b', Buffer.from(`b-${i}`)));
  for (let i = 0; i < 5; i++) t.ok(batcher.add('batch-c', Buffer.from(`c-${i}`)));
  t.equal(a.stats.sent.size, 0, 'nothing sent during the turn');
  await nextTurn();
  for (let i = 10; i < 13; i++) t.ok(batcher.add('batch-b', Buffer.from(`b-${i}`)));
  await waitFor('two payloads at b and one at c', () => atB.length === 2 && atC.length === 1);
  t.equal(a.stats.sent.get('batch-b')?.messages, 2, 'b: one payload per turn');
  t.equal(a.stats.sent.get('batch-c')?.messages, 1, 'c: one payload');
  const itemsAt = (received: typeof atB): string[] =>
    received.flatMap(({ payload }) => {
      const items = splitBatch(payload, batcher.limits);
      if (typeof items === 'string') throw new Error(`rejected: ${items}`);
      return items.map((item) => item.toString());
    });
  t.same(itemsAt(atB), Array.from({ length: 13 }, (_, i) => `b-${i}`));
  t.same(itemsAt(atC), ['c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  t.same(batcher.counts, { payloads: 3, items: 18, refusedItems: 0 });
});

t.test('items past the per-destination bound are refused at once', async (t) => {
  const a = await started('bound-a');
  const batcher = new BusBatcher({ bus: a, logger, maxItems: 3, maxBytes: 4 + 3 * (4 + 10) });
  t.same([1, 2, 3, 4].map(() => batcher.add('bound-b', Buffer.alloc(1))), [true, true, true, false], 'by items');
  t.same([batcher.add('bound-c', Buffer.alloc(20)), batcher.add('bound-c', Buffer.alloc(20)), batcher.add('bound-c', Buffer.alloc(1))], [true, false, true], 'by bytes');
  t.ok(batcher.add('bound-d', Buffer.alloc(1)), 'another destination has its own bound');
  await nextTurn();
  t.ok(batcher.add('bound-b', Buffer.alloc(1)), 'the bound is per turn');
  t.equal(batcher.counts.refusedItems, 2);
  t.throws(() => new BusBatcher({ bus: a, logger, maxItems: 0 }), { name: 'TypeError', message: /options\.maxItems must be a positive integer/ });
  t.throws(() => new BusBatcher({ bus: a, logger, maxBytes: a.maxPayloadBytes + 1 }), { name: 'TypeError', message: /options\.maxBytes must be at most/ });
});

t.test('while the bus is down items are refused; a payload the bus refuses comes back through onRefused', async (t) => {
  const a = await started('refused-a', { maxUnackedMessages: 1 });
  const refused: [string, number[]][] = [];
  const batcher = new BusBatcher<number>({ bus: a, logger, onRefused: (toNode, tags) => refused.push([toNode, tags]) });
  // @ts-expect-error a batcher with tags needs one for every item (checked by tsc -b)
  t.ok(batcher.add('refused-untagged', Buffer.from('x')));
  t.ok(batcher.add('refused-b', Buffer.from('x'), 1));
  t.ok(batcher.add('refused-c', Buffer.from('y'), 2));
  t.ok(batcher.add('refused-c', Buffer.from('z'), 3));
  await nextTurn();
  t.same(refused, [['refused-b', [1]], ['refused-c', [2, 3]]], 'the payloads after the first of the turn passed the bus bound of one');
  await a.close();
  t.equal(batcher.add('refused-b', Buffer.from('x'), 4), false, 'bus down: refused synchronously');
  batcher.close();
  t.equal(batcher.counts.refusedItems, 4);
});
