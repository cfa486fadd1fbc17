/**
 * Adds notification jobs from the fan-out (actors/fanout.ts), off its path: the
 * jobs of one delivery turn go to Redis as one addBulk, not awaited by the
 * fan-out, and at most MAX_INFLIGHT_BULKS are outstanding. Past that, or when
 * Redis fails, the jobs are dropped, counted and logged: a missed notification
 * must never hold up or fail the delivery of messages.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { NOTIFICATION_JOB_NAME, NOTIFICATION_RECIPIENTS_MAX, notificationJobId, type NotificationJobV1 } from './notification-job.ts';
import { bullPrefix, producerConnection, QUEUE_NAMES, type JobsRedis } from './queues.ts';

const MAX_INFLIGHT_BULKS = 64;
/** How long a job the notification-service failed is kept for its operators (completed ones go at once). */
const KEEP_MS = 24 * 3600_000;

export type NotificationDraft = Omit<NotificationJobV1, 'v'>;

export class NotificationProducer {
  private readonly queue: Queue;
  private readonly redis: Redis;
  private readonly logger: Logger;
  private inFlight = 0;
  /** Jobs given up on (overload or Redis failure), for the shard's stats. */
  dropped = 0;
  added = 0;

  constructor(o: JobsRedis) {
    this.logger = o.logger;
    this.redis = producerConnection(o, 'notifications producer');
    this.queue = new Queue(QUEUE_NAMES.notifications, { connection: this.redis, prefix: bullPrefix(o.redisPrefix) });
    this.queue.on('error', (err) => o.logger.warn({ err, queue: QUEUE_NAMES.notifications }, 'queue error'));
  }

  /** Queues the notifications of one delivery turn (one entry per message); returns at once. */
  notify(drafts: readonly NotificationDraft[]): void {
    const jobs = drafts.flatMap((d) => chunks(d));
    if (jobs.length === 0) return;
    if (this.inFlight >= MAX_INFLIGHT_BULKS) {
      this.dropped += jobs.length;
      this.logger.warn({ jobs: jobs.length, messages: drafts.map((d) => d.message_id) }, 'notification queue backlog full: notifications dropped');
      return;
    }
    this.inFlight++;
    this.queue
      .addBulk(jobs.map(({ data, jobId }) => ({
        name: NOTIFICATION_JOB_NAME,
        data,
        opts: { jobId, removeOnComplete: true, removeOnFail: { age: KEEP_MS / 1000 } },
      })))
      .then(
        () => {
          this.added += jobs.length;
        },
        (err: unknown) => {
          this.dropped += jobs.length;
          this.logger.warn({ err, jobs: jobs.length, messages: drafts.map((d) => d.message_id) }, 'notification jobs could not be queued: dropped');
        },
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  async close(): Promise<void> {
    await this.queue.close();
    // A connection handed to BullMQ is the caller's to close.
    this.redis.disconnect();
  }
}

function chunks(d: NotificationDraft): { data: NotificationJobV1; jobId: string }[] {
  const out: { data: NotificationJobV1; jobId: string }[] = [];
  for (let i = 0; i < d.recipients.length; i += NOTIFICATION_RECIPIENTS_MAX) {
    out.push({ data: { v: 1, ...d, recipients: d.recipients.slice(i, i + NOTIFICATION_RECIPIENTS_MAX) }, jobId: notificationJobId(d.message_id, i / NOTIFICATION_RECIPIENTS_MAX) });
  }
  return out;
}
