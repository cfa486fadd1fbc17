import { randomBytes, randomUUID } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import { acknowledgeQueued, enqueueOffline, queueMember, readQueue } from '../src/offline-queue.ts';
import { RedisKeys } from '../src/redis-keys.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`t:${randomBytes(6).toString('hex')}:`);
t.teardown(async () => {
  const left = await redis.keys(`${keys.prefix}*`);
  if (left.length > 0) await redis.del(...left);
  redis.disconnect();
});

t.test('a user\'s queue holds at most its cap, keeping the oldest (the rest is reached with sync)', async (t) => {
  const user = randomUUID();
  const conversation = randomUUID();
  const pipeline = redis.pipeline();
  for (let seq = 1; seq <= 8; seq++) enqueueOffline(pipeline, keys, user, queueMember(conversation, seq, `{"seq":${seq}}`), 5);
  await pipeline.exec();
  const queued = await readQueue(redis, keys, user);
  t.same(queued.map((q) => q.seq), [1, 2, 3, 4, 5]);
  t.ok((await redis.ttl(keys.deliveryQueue(user))) > 6 * 24 * 3600, 'kept for 7 days');
  const ack = redis.pipeline();
  acknowledgeQueued(ack, keys, user, conversation, 3);
  await ack.exec();
  t.same((await readQueue(redis, keys, user)).map((q) => q.seq), [4, 5], 'a receipt empties what it covers');
});
