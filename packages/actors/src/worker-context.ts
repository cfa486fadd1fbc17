/** Everything a shard worker's actors share: pools, the writer, the outbox, the fan-out. */
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { createJobProducers, type JobProducers } from '@whispr/jobs';
import type { Limits } from '@whispr/protocol';
import { createPgPool, DeliveryLatencyRecorder, RedisKeys, WriterSet } from '@whispr/store';
import { ClusterView } from './cluster-view.ts';
import { Fanout } from './fanout.ts';
import { Outbox } from './outbox.ts';
import { OwnershipLease } from './ownership-lease.ts';
import type { OutboxMessage, ShardWorkerData } from './shard-contract.ts';

export interface WorkerContext {
  readonly data: ShardWorkerData;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly pg: pg.Pool;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly writer: WriterSet;
  readonly outbox: Outbox;
  readonly fanout: Fanout;
  /** The shard's BullMQ producers: scheduled-message jobs, notification jobs. */
  readonly jobs: JobProducers;
  /** Whether the shard may serve and claim its conversations now (written by the node's main thread). */
  readonly ownership: OwnershipLease;
  /** Recorded as conversations.owner_node by this shard's claims: its slot. */
  readonly owner: string;
  /** Counts reported with the shard's stats (shard-host.ts). */
  readonly counters: { replyLookups: number };
  /** Lets the writers finish, then closes the pools and Redis. */
  close(): Promise<void>;
}

export function createWorkerContext(data: ShardWorkerData, post: (message: OutboxMessage, transfer: ArrayBuffer[]) => void): WorkerContext {
  const logger = pino({ level: data.logLevel, base: { node: data.nodeId, slot: data.slot } });
  const pool = createPgPool({ connectionString: data.databaseUrl, max: data.pgPoolMax, applicationName: `whispr ${data.slot}`, logger });
  // A Redis hiccup must not stall acknowledgements: commands fail fast instead of queueing forever.
  const redis = new Redis(data.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const keys = new RedisKeys(data.redisPrefix);
  // The writers' own pipelined connections (one each, and a spare for reloading after a failed batch).
  const writerPool = createPgPool({ connectionString: data.databaseUrl, max: data.writers + 1, applicationName: `whispr ${data.slot} writer`, logger, pipeline: true });
  const writer = new WriterSet({ pool: writerPool, logger, writers: data.writers });
  const outbox = new Outbox(data.encodingsInUse, post);
  const jobs = createJobProducers({ redisUrl: data.redisUrl, redisPrefix: data.redisPrefix, logger });
  const fanout = new Fanout({ redis, keys, outbox, logger, nodeId: data.nodeId, incarnation: data.incarnation, view: new ClusterView(data.clusterView), notifications: jobs.notifications });
  fanout.latency = new DeliveryLatencyRecorder(redis, keys.prefix, logger);
  const close = async (): Promise<void> => {
    await fanout.latency?.close();
    await writer.close();
    await Promise.all([pool.end(), writerPool.end(), jobs.close()]);
    redis.disconnect();
  };
  const ownership = new OwnershipLease(data.ownership);
  return { data, limits: data.limits, logger, pg: pool, redis, keys, writer, outbox, fanout, jobs, ownership, owner: data.slot, counters: { replyLookups: 0 }, close };
}
