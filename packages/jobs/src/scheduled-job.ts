/**
 * The scheduled-message job (queue `scheduled-messages`): a BullMQ delayed job
 * whose id is the scheduled message's id, so scheduling the same message twice
 * is one job. Its data only names the row; the row (scheduled_messages) holds
 * the content and decides whether anything is still to send.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { isUuid } from '@whispr/protocol';
import { bullPrefix, producerConnection, QUEUE_NAMES, type JobsRedis } from './queues.ts';

export const SCHEDULED_JOB_VERSION = 1;

export interface ScheduledJobData {
  v: typeof SCHEDULED_JOB_VERSION;
  scheduled_id: string;
  conversation_id: string;
}

/** Retries of a send that failed for a passing reason (the owner unavailable, rate_limited): exponential from 1 s, about 4 minutes in all. */
export const SCHEDULED_ATTEMPTS = 8;
const BACKOFF_MS = 1000;

export function parseScheduledJob(data: unknown): ScheduledJobData | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (d.v !== SCHEDULED_JOB_VERSION || !isUuid(d.scheduled_id) || !isUuid(d.conversation_id)) return null;
  return { v: SCHEDULED_JOB_VERSION, scheduled_id: d.scheduled_id, conversation_id: d.conversation_id };
}

/** Adds and removes scheduled-message jobs (used by the sched.* handlers, in the shard workers). */
export class ScheduledProducer {
  private readonly queue: Queue;
  private readonly redis: Redis;

  constructor(o: JobsRedis) {
    this.redis = producerConnection(o, 'scheduled producer');
    this.queue = new Queue(QUEUE_NAMES.scheduled, { connection: this.redis, prefix: bullPrefix(o.redisPrefix) });
    this.queue.on('error', (err) => o.logger.warn({ err, queue: QUEUE_NAMES.scheduled }, 'queue error'));
  }

  /** The job for a scheduled message, due at `dueAt`; a second call for the same id adds nothing. */
  async schedule(scheduledId: string, conversationId: string, dueAt: number): Promise<void> {
    const data: ScheduledJobData = { v: SCHEDULED_JOB_VERSION, scheduled_id: scheduledId, conversation_id: conversationId };
    await this.queue.add('send', data, {
      jobId: scheduledId,
      delay: Math.max(0, dueAt - Date.now()),
      attempts: SCHEDULED_ATTEMPTS,
      backoff: { type: 'exponential', delay: BACKOFF_MS },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /**
   * Removes the job of a cancelled message. Only tidiness: the row, marked
   * cancelled in the conversation's line, is what keeps it from being sent.
   */
  async unschedule(scheduledId: string): Promise<void> {
    await this.queue.remove(scheduledId);
  }

  async close(): Promise<void> {
    await this.queue.close();
    // A connection handed to BullMQ is the caller's to close.
    this.redis.disconnect();
  }
}
