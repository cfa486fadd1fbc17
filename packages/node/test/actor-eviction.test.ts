// Actors are evicted idle or least recently used, and the conversation_registry
// mirror in Redis (seed §8.2) follows: no entry outlives its actor.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('evicted actors leave the conversation registry, whether idle or over capacity', async (t) => {
  // The idle timeout is long enough that, even on a loaded machine, no actor goes
  // idle while the six conversations are being made: the first check is of the
  // LRU bound alone.
  const n = await startTestNode(t, { workers: 1, actorIdleMs: 10_000, maxActorsPerShard: 3 });
  const key = `${n.redisPrefix}cluster:conversation_registry`;
  const a = await n.connect(randomUUID());
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const { conversation } = await a.direct(randomUUID());
    await a.send(conversation.id, { content: `hello ${i}` });
    ids.push(conversation.id);
  }
  const waitFor = async (what: string, check: (entries: Record<string, string>) => boolean): Promise<Record<string, string>> => {
    for (let i = 0; i < 400; i++) {
      const entries = await n.redis.hgetall(key);
      if (check(entries)) return entries;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.fail(`timed out waiting: ${what}`);
    return n.redis.hgetall(key);
  };
  const live = await waitFor('the mirror settles at the capacity', (e) => Object.keys(e).length > 0 && Object.keys(e).length <= 3);
  t.ok(Object.keys(live).every((id) => ids.includes(id)), 'only live conversations are listed');
  t.ok(ids.slice(3).every((id) => id in live), 'the most recently used are the ones kept');
  await waitFor('every idle actor evicted and unlisted', (e) => Object.keys(e).length === 0);
  // Back in use: reloaded and listed again.
  const first = ids[0] ?? '';
  t.equal((await a.history(first)).messages.length, 1);
  await waitFor('reloaded and listed again', (e) => first in e);
});
