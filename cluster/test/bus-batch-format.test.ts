/**
 * The batch payload format: what goes in comes out, and the splitter rejects
 * anything that is not exactly a well-formed batch, as a whole.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { encodeBatch, splitBatch, type BatchLimits } from '../src/bus-batch-format.ts';

const limits: BatchLimits = { maxItems: 100, maxBytes: 64 * 1024 };
const items = [Buffer.from('first'), Buffer.alloc(0), randomBytes(300), Buffer.from([0, 255, 0])];

t.test('items come back in order, byte for byte, as views of the payload', async (t) => {
  const payload = encodeBatch(items);
  const split = splitBatch(payload, limits);
  if (typeof split === 'string') throw new Error(`rejected: ${split}`);
  t.equal(split.length, items.length);
  split.forEach((item, i) => t.equal(Buffer.compare(item, items[i]!), 0, `item ${i}`));
  t.equal(split[0]!.buffer, payload.buffer, 'no copies');
});

t.test('every truncation is rejected, including at an item boundary', async (t) => {
  const payload = encodeBatch(items);
  const verdicts = new Set<string>();
  for (let length = 0; length < payload.length; length++) {
    const split = splitBatch(payload.subarray(0, length), limits);
    t.type(split, 'string', `cut at ${length}`);
    verdicts.add(String(split));
  }
  t.same([...verdicts], ['truncated']);
});

t.test('empty, too many items, oversized and trailing bytes are rejected', async (t) => {
  t.equal(splitBatch(Buffer.from([0, 0, 0, 0]), limits), 'empty');
  t.equal(splitBatch(encodeBatch(Array.from({ length: 101 }, () => Buffer.from('x'))), limits), 'too_many_items');
  t.equal(splitBatch(encodeBatch([Buffer.alloc(64 * 1024)]), limits), 'oversized');
  t.equal(splitBatch(Buffer.concat([encodeBatch(items), Buffer.from([0])]), limits), 'trailing_bytes');
  // A count that promises more items than the bytes could hold is caught before any item is read.
  t.equal(splitBatch(Buffer.from([0, 0, 0, 50, 0, 0, 0, 0]), limits), 'truncated');
  // An item length pointing past the end.
  t.equal(splitBatch(Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1]), limits), 'truncated');
});

t.test('random bytes are rejected or are exactly a canonical batch, and never throw', async (t) => {
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const garbage = randomBytes(i % 64);
    // Make about half look like a plausible count so the item loop is exercised.
    if (garbage.length >= 4 && i % 2 === 0) garbage.writeUInt32BE(1 + (i % 3), 0);
    const split = splitBatch(garbage, limits);
    if (typeof split === 'string') continue;
    accepted++;
    if (Buffer.compare(encodeBatch(split), garbage) !== 0) t.fail(`accepted a non-canonical payload ${garbage.toString('hex')}`);
  }
  t.pass(`${accepted} random payloads happened to be well-formed, each exactly`);
});
