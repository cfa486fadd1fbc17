/**
 * The cluster's BullMQ queues: their names, where their keys live, and the
 * Redis connections they use.
 *
 * Every key is under the cluster's Redis prefix (WHISPR_REDIS_PREFIX) followed
 * by `bull` (BullMQ's own `prefix` option; ioredis' keyPrefix is not supported
 * by BullMQ), so clusters sharing a Redis, and tests, never see each other's jobs.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export const QUEUE_NAMES = {
  /** One delayed job per scheduled message, its id the scheduled message's id. */
  scheduled: 'scheduled-messages',
  /** Jobs for the notification-service (notification-job.ts); this service only produces them. */
  notifications: 'notifications',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface JobsRedis {
  redisUrl: string;
  /** The cluster's prefix (WHISPR_REDIS_PREFIX); BullMQ's keys go under `${redisPrefix}bull:`. */
  redisPrefix: string;
  logger: Logger;
}

export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}bull`;

/**
 * A connection for producers (Queue): commands fail fast rather than queue for
 * ever while Redis is away, as the rest of the node's Redis use does.
 */
export function producerConnection(o: JobsRedis, name: string): Redis {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 2, connectionName: `whispr ${name}` });
  redis.on('error', (err) => o.logger.warn({ err, connection: name }, 'jobs redis connection error'));
  return redis;
}

/** A connection for workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function workerConnection(o: JobsRedis, name: string): Redis {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null, connectionName: `whispr ${name}` });
  redis.on('error', (err) => o.logger.warn({ err, connection: name }, 'jobs redis connection error'));
  return redis;
}
