/**
 * The bus recovers by itself: after its Redis is killed and started again empty,
 * every bus reconnects, says `reconnected` (the node's cue to re-register), and
 * delivers again. Each test runs its own redis-server on a free port, never the
 * shared one.
 */
import { Redis } from 'ioredis';
import t from 'tap';
import { pino } from 'pino';
import type { Bus } from '../src/bus.ts';
import { RedisPubSubBus } from '../src/bus-redis.ts';
import { BUS_IMPLEMENTATIONS } from './helpers/bus-implementations.ts';
import { collect, nextEvent, randomPrefix, waitFor } from './helpers/bus-harness.ts';
import { startRedisServer } from './helpers/redis-server.ts';

const silent = pino({ level: 'silent' });

for (const implementation of BUS_IMPLEMENTATIONS) {
  t.test(`${implementation.name}: a Redis restart is survived without help`, async (t) => {
    const server = await startRedisServer();
    t.teardown(() => server.stop());
    const prefix = randomPrefix();
    const [a, b] = ['restart-a', 'restart-b'].map((nodeId) => implementation.create({ nodeId, prefix, redisUrl: server.url, logger: silent })) as [Bus, Bus];
    t.teardown(async () => {
      await Promise.all([a.close(), b.close()]);
    });
    await Promise.all([a.start(), b.start()]);
    const events = { a: [] as string[], b: [] as string[] };
    for (const [name, bus] of [['a', a], ['b', b]] as const) {
      for (const event of ['up', 'down', 'reconnected'] as const) bus.on(event, () => events[name].push(event));
    }
    const atB = collect(b);
    const atA = collect(a);
    t.ok(a.send('restart-b', Buffer.from('before')));
    await waitFor('the first payload', () => atB.length === 1);

    const bothDown = Promise.all([nextEvent(a, 'down'), nextEvent(b, 'down')]);
    const bothBack = Promise.all([nextEvent(a, 'reconnected'), nextEvent(b, 'reconnected')]);
    const restarted = server.restart(300);
    await bothDown;
    t.equal(a.send('restart-b', Buffer.from('while down')), false, 'refused while Redis is gone');
    t.ok(a.stats.dropped.not_connected >= 1);
    await restarted;
    await bothBack;
    t.same(events.a, ['down', 'up', 'reconnected'], 'a: down, then up and reconnected');
    t.same(events.b, ['down', 'up', 'reconnected'], 'b: down, then up and reconnected');

    t.ok(a.send('restart-b', Buffer.from('after')), 'a sends again');
    t.ok(b.send('restart-a', Buffer.from('reply')), 'b sends again');
    await waitFor('delivery in both directions', () => atB.length === 2 && atA.length === 1);
    t.equal(atB[1]!.payload.toString(), 'after');
    t.equal(atA[0]!.payload.toString(), 'reply');
    await waitFor('nothing left unacknowledged', () => a.stats.unacked.messages === 0 && b.stats.unacked.messages === 0);
  });
}

t.test('RedisPubSubBus: payloads lost while a subscriber blips are counted on both ends', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const prefix = randomPrefix();
  const [a, b] = ['blip-a', 'blip-b'].map((nodeId) => new RedisPubSubBus({ nodeId, prefix, redisUrl: server.url, logger: silent }));
  const admin = new Redis(server.url);
  t.teardown(async () => {
    admin.disconnect();
    await Promise.all([a!.close(), b!.close()]);
  });
  await Promise.all([a!.start(), b!.start()]);
  const atB = collect(b!);
  a!.send('blip-b', Buffer.from('1'));
  await waitFor('the first payload', () => atB.length === 1);

  // Redis drops a subscriber like this when its output buffer passes the pubsub limit.
  const back = nextEvent(b!, 'reconnected');
  const clients = String(await admin.call('CLIENT', 'LIST'));
  const subscriberId = /id=(\d+) .*name=whispr-bus-subscriber:blip-b /.exec(clients)?.[1];
  t.ok(subscriberId, 'found the subscriber connection');
  await admin.call('CLIENT', 'KILL', 'ID', subscriberId!);
  for (let i = 0; i < 5; i++) t.ok(a!.send('blip-b', Buffer.from(`lost ${i}`)), 'the sender cannot know yet');
  await back;
  a!.send('blip-b', Buffer.from('after'));
  await waitFor('the payload after the blip', () => atB.length === 2);
  t.same(
    atB.map((r) => r.payload.toString()),
    ['1', 'after'],
  );
  t.equal(b!.stats.received.get('blip-a')?.gaps, 5, 'the receiver sees the hole in the sequence');
  await waitFor('the sender to count them', () => a!.stats.dropped.unheard === 5);
  t.pass('the sender counted 5 unheard');
});
