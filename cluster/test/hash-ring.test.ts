import t from 'tap';
import { HashRing, hash32, slotId } from '../src/hash-ring.ts';

t.test('every node builds the same ring from the same slots, whatever their order', async (t) => {
  const slots = ['a:1#0', 'a:1#1', 'b:2#0', 'c:3#0'];
  const one = new HashRing(slots);
  const two = new HashRing([...slots].reverse());
  t.ok(one.sameAs(two));
  for (let i = 0; i < 1000; i++) t.equal(one.ownerOf(`key-${i}`), two.ownerOf(`key-${i}`));
});

t.test('adding a slot moves only about 1/N of the keys, all to the new slot', async (t) => {
  const before = new HashRing(['a#0', 'b#0', 'c#0']);
  const after = new HashRing(['a#0', 'b#0', 'c#0', 'd#0']);
  let moved = 0;
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const key = `conversation-${i}`;
    const was = before.ownerOf(key);
    const now = after.ownerOf(key);
    if (was !== now) {
      moved++;
      t.equal(now, 'd#0', 'a key only ever moves to the slot that joined');
    }
  }
  t.ok(moved / N > 0.15 && moved / N < 0.35, `moved share ${(moved / N).toFixed(3)} near 1/4`);
});

t.test('an empty ring owns nothing; slot ids and hashes are stable', async (t) => {
  t.equal(new HashRing([]).ownerOf('x'), null);
  t.equal(slotId('node-1', 3), 'node-1#3');
  t.equal(hash32('whispr'), hash32('whispr'));
  t.throws(() => new HashRing(['a'], 0), { name: 'TypeError' });
});
