import { randomUUID } from 'node:crypto';
import t from 'tap';
import { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

// Regression: socket writes made from a microtask could run while uWebSockets.js
// had another socket corked, and about 1 connect in 700 was dropped with 1006
// before hello. 1,000 cycles catch that rate most of the time.
t.test('connections opened and closed back to back all get their hello', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  let failures = 0;
  for (let i = 0; i < 1000; i++) {
    try {
      const c = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(randomUUID()), encoding: i % 2 ? 'json' : 'msgpack' });
      await c.ping();
      c.sendRaw('{bad', false);
      await c.close();
    } catch (err) {
      failures++;
      t.comment(`cycle ${i}: ${(err as Error).message}`);
    }
  }
  t.equal(failures, 0, 'no connection dropped before hello');
});
