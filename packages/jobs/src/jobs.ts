/**
 * The jobs of one node (started and stopped by the node's composition root,
 * packages/node/src/node.ts): the scheduled-message processor, which every node
 * runs, and the queues' metrics and log. The producers used by the shard
 * workers are separate (producers.ts): each worker thread has its own.
 *
 * At start, every pending scheduled message gets its job again (at most
 * RESCHEDULE_MAX, soonest first): adding an existing job id adds nothing, so
 * this only restores jobs a Redis without persistence, or a flushed one, lost.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { SendResult } from '@whispr/protocol';
import { listPendingScheduledIds, type ScheduledRow } from '@whispr/store';
import { QueueMetrics } from './queue-metrics.ts';
import { bullPrefix, producerConnection, QUEUE_NAMES, type JobsRedis } from './queues.ts';
import { ScheduledProducer } from './scheduled-job.ts';
import { ScheduledProcessor } from './scheduled-processor.ts';

const RESCHEDULE_MAX = 10_000;

export interface NodeJobsOptions extends JobsRedis {
  pg: pg.Pool;
  registry: Registry;
  /** The scheduled message's send, as its sender, through the conversation's owner (an internal call). */
  sendScheduled(row: ScheduledRow): Promise<SendResult>;
}

export class NodeJobs {
  private readonly processor: ScheduledProcessor;
  private readonly metrics: QueueMetrics;
  /** Read-only handles for the metrics (counts), on one connection. */
  private readonly watched: Queue[];
  private readonly redis: Redis;
  private readonly producer: ScheduledProducer;

  constructor(private readonly o: NodeJobsOptions) {
    this.processor = new ScheduledProcessor({ ...o, send: o.sendScheduled });
    this.redis = producerConnection(o, 'queue metrics');
    this.watched = Object.values(QUEUE_NAMES).map((name) => new Queue(name, { connection: this.redis, prefix: bullPrefix(o.redisPrefix) }));
    for (const q of this.watched) q.on('error', (err) => o.logger.warn({ err, queue: q.name }, 'queue error'));
    this.metrics = new QueueMetrics(o.registry, this.watched, o.logger);
    this.producer = new ScheduledProducer(o);
  }

  start(): void {
    this.processor.start();
    this.reschedulePending().catch((err: unknown) => this.o.logger.warn({ err }, 'restoring the jobs of pending scheduled messages failed'));
  }

  private async reschedulePending(): Promise<void> {
    const rows = await listPendingScheduledIds(this.o.pg, RESCHEDULE_MAX);
    for (const row of rows) await this.producer.schedule(row.id, row.conversation_id, row.scheduled_for);
    if (rows.length > 0) this.o.logger.info({ pending: rows.length }, 'jobs of pending scheduled messages checked');
  }

  /** This node stops taking scheduled-message jobs (operators draining a node; tests choosing which node runs a job). */
  pause(): Promise<void> {
    return this.processor.pause();
  }

  resume(): void {
    this.processor.resume();
  }

  /** Running jobs finish first (their sends go through the gateway, which must still be up). */
  async stop(): Promise<void> {
    this.metrics.close();
    await this.processor.close();
    await Promise.all([...this.watched.map((q) => q.close()), this.producer.close()]);
    this.redis.disconnect();
  }
}
