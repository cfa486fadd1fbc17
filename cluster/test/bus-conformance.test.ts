/**
 * The Bus contract (cluster/src/bus.ts), run against every implementation in
 * helpers/bus-implementations.ts on the shared Redis, each under a prefix of its
 * own. Redis restarts are in bus-restart.test.ts (they need a server of their own).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { pino } from 'pino';
import type { Bus } from '../src/bus.ts';
import { EnvelopeHeader } from '../src/bus-envelope.ts';
import type { RedisBusOptions } from '../src/bus-options.ts';
import { BUS_IMPLEMENTATIONS } from './helpers/bus-implementations.ts';
import { SHARED_REDIS_URL, captureLogger, collect, nextEvent, randomPrefix, waitFor } from './helpers/bus-harness.ts';

const silent = pino({ level: 'silent' });

for (const implementation of BUS_IMPLEMENTATIONS) {
  t.test(implementation.name, async (t) => {
    const prefix = randomPrefix();
    const buses: Bus[] = [];
    const make = (nodeId: string, extra: Partial<RedisBusOptions> = {}): Bus => {
      const bus = implementation.create({ nodeId, prefix, redisUrl: SHARED_REDIS_URL, logger: silent, ...extra });
      buses.push(bus);
      return bus;
    };
    const started = async (...ids: string[]): Promise<Bus[]> => {
      const list = ids.map((id) => make(id));
      await Promise.all(list.map((bus) => bus.start()));
      return list;
    };
    t.teardown(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
    });

    t.test('delivers every payload byte for byte, in order per sender', async (t) => {
      const [a, b, c] = await started('deliver-a', 'deliver-b', 'deliver-c');
      const received = collect(b!);
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const oneMiB = randomBytes(1024 * 1024);
      // A view into a larger buffer: the bus must send the view's bytes, not its backing store.
      const backing = randomBytes(64);
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 7, 20);
      const fromA = [every, Buffer.alloc(0), oneMiB, view, ...Array.from({ length: 200 }, (_, i) => Buffer.from(`a-${i}`))];
      const fromC = Array.from({ length: 200 }, (_, i) => Buffer.from(`c-${i}`));
      for (let i = 0; i < 200; i++) {
        // Interleaved, so per-sender order is checked while two senders share the inbox.
        if (i < fromA.length) t.ok(a!.send('deliver-b', fromA[i]!));
        t.ok(c!.send('deliver-b', fromC[i]!));
      }
      for (let i = 200; i < fromA.length; i++) t.ok(a!.send('deliver-b', fromA[i]!));
      await waitFor('every payload', () => received.length === fromA.length + fromC.length);

      const got = (from: string): Buffer[] => received.filter((r) => r.from === from).map((r) => r.payload);
      const same = (actual: Buffer[], expected: Uint8Array[]): boolean =>
        actual.length === expected.length && actual.every((bytes, i) => Buffer.compare(bytes, expected[i]!) === 0);
      t.ok(same(got('deliver-a'), fromA), 'a: every byte value, 0 bytes, 1 MiB and a view arrive exactly, in order');
      t.ok(same(got('deliver-c'), fromC), 'c: in order');

      const bytesOf = (list: Uint8Array[]): number => list.reduce((sum, p) => sum + p.length, 0);
      t.same(a!.stats.sent.get('deliver-b'), { messages: fromA.length, bytes: bytesOf(fromA) });
      t.same(b!.stats.received.get('deliver-a'), { messages: fromA.length, bytes: bytesOf(fromA), gaps: 0 });
      t.same(b!.stats.received.get('deliver-c'), { messages: fromC.length, bytes: bytesOf(fromC), gaps: 0 });
      await waitFor('every publish acknowledged', () => a!.stats.unacked.messages === 0 && c!.stats.unacked.messages === 0);
      t.same(a!.stats.unacked, { messages: 0, bytes: 0 });
      t.same(Object.values(a!.stats.dropped).concat(Object.values(b!.stats.dropped)), new Array(12).fill(0), 'nothing dropped');
    });

    t.test('a payload for a node nobody listens for is dropped and counted, not an error', async (t) => {
      const [a] = await started('unheard-a');
      t.equal(a!.send('unheard-nobody', Buffer.from('hello?')), true, 'on its way, as far as the sender can tell');
      await waitFor('the drop to be counted', () => a!.stats.dropped.unheard === 1);
      t.same(a!.stats.sent.get('unheard-nobody'), { messages: 1, bytes: 6 });
      t.equal(a!.stats.unacked.messages, 0);
      t.equal(a!.connected, true);
    });

    t.test('what is not an envelope of this bus is dropped, counted and logged once', async (t) => {
      const captured = captureLogger();
      const b = make('malformed-b', { logger: captured.logger, maxPayloadBytes: 1024 });
      const [a] = await started('malformed-a');
      await b.start();
      const received = collect(b);
      const valid = new EnvelopeHeader('malformed-x', 1).wrap(1, Buffer.from('ok'));
      const patched = (at: number, byte: number): Buffer => {
        const copy = Buffer.from(valid);
        copy[at] = byte;
        return copy;
      };
      const senderWith = (id: Buffer): Buffer => Buffer.concat([Buffer.from([0x57, 0x42, 1, id.length]), id, Buffer.alloc(8), Buffer.from('x')]);
      const garbage = [
        Buffer.from('hello'), // not ours at all
        Buffer.alloc(0),
        Buffer.from([0x57]), // truncated inside the fixed header
        patched(0, 0x58), // wrong magic
        patched(2, 2), // a version this bus does not speak
        valid.subarray(0, 10), // cut inside the sender id
        valid.subarray(0, valid.length - 3), // cut inside incarnation/seq
        senderWith(Buffer.alloc(0)), // no sender
        senderWith(Buffer.from([0xff, 0xfe])), // not UTF-8
        senderWith(Buffer.from('two words')), // whitespace
        new EnvelopeHeader('malformed-x', 1).wrap(2, Buffer.alloc(1025)), // over maxPayloadBytes
      ];
      await implementation.inject(SHARED_REDIS_URL, prefix, 'malformed-b', garbage);
      t.ok(a!.send('malformed-b', Buffer.from('after the garbage')));
      await waitFor('the valid payload', () => received.length === 1);
      t.equal(received[0]!.payload.toString(), 'after the garbage', 'only the well-formed payload is delivered');
      t.equal(b.stats.dropped.malformed, garbage.length, 'every malformed message counted');
      t.equal(b.connected, true, 'and the bus is still up');
      const warnings = captured.lines.filter((line) => String(line.msg).includes('not a bus envelope'));
      t.equal(warnings.length, 1, 'logged at most once per second');
      t.ok(['bad_magic', 'truncated'].includes(String(warnings[0]?.reason)), 'the log names the reason');
    });

    t.test('send refuses, and counts, when over the bound, too large or not connected', async (t) => {
      const idle = make('bound-idle');
      t.equal(idle.connected, false);
      t.equal(idle.send('bound-b', Buffer.from('x')), false, 'not started');
      t.equal(idle.stats.dropped.not_connected, 1);

      const byCount = make('bound-count', { maxUnackedMessages: 2 });
      const bySize = make('bound-size', { maxPayloadBytes: 1000, maxUnackedBytes: 1500 });
      await Promise.all([byCount.start(), bySize.start()]);
      // Nothing can be acknowledged within one synchronous run, so the bound is exact here.
      t.same([1, 2, 3].map(() => byCount.send('bound-b', Buffer.from('x'))), [true, true, false]);
      t.equal(byCount.stats.dropped.over_bound, 1);
      t.equal(bySize.send('bound-b', Buffer.alloc(1001)), false, 'longer than maxPayloadBytes');
      t.equal(bySize.stats.dropped.too_large, 1);
      t.same([1000, 600, 500].map((n) => bySize.send('bound-b', Buffer.alloc(n))), [true, false, true], '1,000 + 600 bytes would pass 1,500');
      t.equal(bySize.stats.dropped.over_bound, 1);
      await waitFor('acknowledgements', () => byCount.stats.unacked.messages === 0 && bySize.stats.unacked.bytes === 0);
      t.equal(byCount.send('bound-b', Buffer.from('x')), true, 'accepted again once Redis has answered');
    });

    t.test('close stops delivery at once and refuses sends after', async (t) => {
      const [a, b] = await started('close-a', 'close-b');
      const received = collect(b!);
      const down = nextEvent(b!, 'down');
      t.ok(a!.send('close-b', Buffer.from('before')));
      await waitFor('the first payload', () => received.length === 1);
      t.ok(a!.send('close-b', Buffer.from('in flight while closing')));
      await b!.close();
      await down;
      t.equal(b!.connected, false);
      t.equal(b!.send('close-a', Buffer.from('x')), false);
      await b!.close(); // twice is harmless
      a!.send('close-b', Buffer.from('after'));
      await implementation.inject(SHARED_REDIS_URL, prefix, 'close-b', [new EnvelopeHeader('close-z', 1).wrap(1, Buffer.from('raw'))]);
      await sleep(100);
      t.same(
        received.map((r) => r.payload.toString()),
        ['before'],
        'nothing delivered after close was called',
      );
    });

    t.test('a listener that throws is contained', async (t) => {
      const [a, b] = await started('listener-a', 'listener-b');
      let calls = 0;
      b!.on('message', () => {
        calls++;
        if (calls === 1) throw new Error('a bug in the node');
      });
      a!.send('listener-b', Buffer.from('1'));
      a!.send('listener-b', Buffer.from('2'));
      await waitFor('both payloads', () => calls === 2);
      t.equal(b!.stats.listenerErrors, 1);
      t.equal(b!.connected, true);
    });

    t.test('start fails within its timeout when Redis does not answer', async (t) => {
      const bus = implementation.create({ nodeId: 'nowhere', prefix, redisUrl: 'redis://127.0.0.1:1', logger: silent, startTimeoutMs: 300 });
      await t.rejects(bus.start(), /not subscribed to redis:\/\/127\.0\.0\.1:1\/? within 300 ms/);
      t.equal(bus.connected, false);
      await t.rejects(bus.start(), /starts once/);
    });

    t.test('close ends a start that is still waiting for Redis', async (t) => {
      const bus = implementation.create({ nodeId: 'closing-early', prefix, redisUrl: 'redis://127.0.0.1:1', logger: silent, startTimeoutMs: 60_000 });
      const starting = bus.start();
      await bus.close();
      await t.rejects(starting, /closed before it was up/);
    });

    t.test('options are checked at construction, naming the bad option', async (t) => {
      const good: RedisBusOptions = { nodeId: 'n', prefix, redisUrl: SHARED_REDIS_URL, logger: silent };
      const bad: [Partial<Record<keyof RedisBusOptions, unknown>>, RegExp][] = [
        [{ nodeId: '' }, /options\.nodeId must be/],
        [{ nodeId: 'has space' }, /options\.nodeId must be/],
        [{ nodeId: 'x'.repeat(256) }, /options\.nodeId must be/],
        [{ prefix: 'bad prefix' }, /options\.prefix must be/],
        [{ redisUrl: 'http://localhost' }, /options\.redisUrl must be/],
        [{ logger: console }, /options\.logger must be a pino Logger/],
        [{ maxPayloadBytes: 0 }, /options\.maxPayloadBytes must be a positive integer, got 0/],
        [{ maxUnackedMessages: 1.5 }, /options\.maxUnackedMessages must be a positive integer/],
        [{ maxPayloadBytes: 2000, maxUnackedBytes: 1000 }, /options\.maxUnackedBytes must be at least options\.maxPayloadBytes/],
        [{ startTimeoutMs: -1 }, /options\.startTimeoutMs must be/],
      ];
      for (const [patch, message] of bad) {
        t.throws(() => implementation.create({ ...good, ...patch } as RedisBusOptions), { name: 'TypeError', message }, JSON.stringify(patch));
      }
    });
  });
}
