/**
 * The bus envelope and the sequence gaps a receiver counts: unit checks of what the
 * conformance suite relies on, including the cases hard to provoke through Redis.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { EnvelopeDecoder, EnvelopeHeader, isValidNodeId, maxEnvelopeBytes } from '../src/bus-envelope.ts';
import { GapDetector } from '../src/bus-gaps.ts';

t.test('an envelope carries sender, incarnation, seq and the payload exactly', async (t) => {
  const header = new EnvelopeHeader('nœud-1:8080', 0xdeadbeef);
  const payload = randomBytes(100);
  const decoded = new EnvelopeDecoder(1024).decode(header.wrap(0xffffffff, payload));
  if (typeof decoded === 'string') throw new Error(decoded);
  t.equal(decoded.sender, 'nœud-1:8080');
  t.equal(decoded.incarnation, 0xdeadbeef);
  t.equal(decoded.seq, 0xffffffff);
  t.equal(Buffer.compare(decoded.payload, payload), 0);
});

t.test('every truncation of an envelope is rejected; random bytes never throw', async (t) => {
  const decoder = new EnvelopeDecoder(1024);
  const envelope = new EnvelopeHeader('node-a', 7).wrap(1, Buffer.alloc(0));
  for (let length = 0; length < envelope.length; length++) t.type(decoder.decode(envelope.subarray(0, length)), 'string', `cut at ${length}`);
  for (let i = 0; i < 20_000; i++) {
    const garbage = randomBytes(i % 48);
    if (garbage.length >= 3 && i % 2 === 0) garbage.set([0x57, 0x42, 1]);
    const result = decoder.decode(garbage);
    if (typeof result !== 'string' && !isValidNodeId(result.sender)) t.fail(`accepted sender ${JSON.stringify(result.sender)}`);
  }
  t.equal(decoder.decode(Buffer.alloc(maxEnvelopeBytes(1024) + 1)), 'oversized', 'too long to read at all');
});

t.test('node ids: 1–255 UTF-8 bytes, no whitespace or control characters', async (t) => {
  t.ok(isValidNodeId('host-1:8080'));
  t.ok(isValidNodeId('x'.repeat(255)));
  for (const bad of ['', ' ', 'a b', 'a\tb', 'a\u0000', 'x'.repeat(256), 'é'.repeat(128), 42]) t.notOk(isValidNodeId(bad), JSON.stringify(bad));
  t.throws(() => new EnvelopeHeader('a b', 1), { name: 'TypeError' });
});

t.test('gaps: holes in a sender sequence are counted, across the 2^32 wrap; a new incarnation starts over', async (t) => {
  const gaps = new GapDetector();
  t.equal(gaps.observe('a', 1, 1), 0, 'first seen');
  t.equal(gaps.observe('a', 1, 2), 0);
  t.equal(gaps.observe('a', 1, 5), 2, '3 and 4 are missing');
  t.equal(gaps.observe('a', 1, 5), 0, 'a repeat is not a loss');
  t.equal(gaps.observe('a', 1, 3), 0, 'nor is going back');
  t.equal(gaps.observe('a', 2, 100), 0, 'a restarted sender');
  t.equal(gaps.observe('b', 9, 0xfffffffe), 0);
  t.equal(gaps.observe('b', 9, 1), 2, '0xffffffff and 0 are missing');
});
