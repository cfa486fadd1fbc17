/**
 * Every Bus implementation the conformance suite runs against, with the one
 * thing the suite cannot do through the Bus interface: put raw bytes where the
 * implementation reads its inbox (to prove it does not trust them).
 */
import { Redis } from 'ioredis';
import type { Bus } from '../../src/bus.ts';
import type { RedisBusOptions } from '../../src/bus-options.ts';
import { RedisPubSubBus, busInboxChannel } from '../../src/bus-redis.ts';

export interface BusImplementation {
  name: string;
  create(options: RedisBusOptions): Bus;
  /** Writes `bytes` straight onto `nodeId`'s inbox, bypassing any bus. */
  inject(redisUrl: string, prefix: string, nodeId: string, messages: Buffer[]): Promise<void>;
}

export const BUS_IMPLEMENTATIONS: BusImplementation[] = [
  {
    name: 'RedisPubSubBus',
    create: (options) => new RedisPubSubBus(options),
    async inject(redisUrl, prefix, nodeId, messages) {
      const redis = new Redis(redisUrl);
      try {
        for (const message of messages) await redis.publish(busInboxChannel(prefix, nodeId), message);
      } finally {
        redis.disconnect();
      }
    },
  },
];
