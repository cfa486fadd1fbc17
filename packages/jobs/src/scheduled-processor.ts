/**
 * Runs due scheduled messages, on every node (any node's worker may take any
 * job): reads the row, and if it is still pending sends it through the
 * conversation's owner as its sender (`send`, the node's internal call), which
 * marks the row sent in the message's own commit.
 *
 * Exactly once: a job run twice (retried after a lost reply, duplicated, or
 * taken again after its node died mid-run) either finds the row sent, or sends
 * again with the same (sender, client_random) and is answered `duplicate` (the
 * message is not stored twice). A cancelled row is never sent: sched.cancel and
 * the send both run in the conversation's line, and the send checks the row
 * there.
 *
 * Outcomes: a send refused for good (the sender is no longer a member:
 * forbidden; the conversation is gone: not_found; the client_random was used for
 * another message: conflict; limits lowered: too_large / bad_request) marks the
 * row failed with the reason and the job completes; one refused for a passing
 * reason (unavailable, rate_limited, internal) throws, and BullMQ retries it with
 * backoff (scheduled-job.ts).
 *
 * A node killed while running a job: its lock lapses after LOCK_MS and another
 * node's stalled-job check (every STALLED_CHECK_MS) puts it back to run, so the
 * message goes out within seconds, not BullMQ's default 30 s.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCode, WhisprError, type SendResult } from '@whispr/protocol';
import { getScheduled, isPending, markScheduledFailed, markScheduledSentBy, type ScheduledRow } from '@whispr/store';
import { bullPrefix, QUEUE_NAMES, workerConnection, type JobsRedis } from './queues.ts';
import { parseScheduledJob } from './scheduled-job.ts';

export const LOCK_MS = 3000;
export const STALLED_CHECK_MS = 1000;
/** A job whose runner died more than this many times is failed rather than run again. */
const MAX_STALLED = 3;

/** Refusals that no retry will change: the row is marked failed. */
const FINAL = new Set<string>([ErrorCode.Forbidden, ErrorCode.NotFound, ErrorCode.Conflict, ErrorCode.TooLarge, ErrorCode.BadRequest]);

export type ScheduledOutcome = 'sent' | 'duplicate' | 'not-pending' | 'missing' | 'failed' | 'malformed';

export interface ScheduledProcessorOptions extends JobsRedis {
  pg: pg.Pool;
  /** Sends the row's message as its sender through the conversation's owner, with scheduled_id set. */
  send(row: ScheduledRow): Promise<SendResult>;
  concurrency?: number;
}

export class ScheduledProcessor {
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly redis: Redis;

  constructor(private readonly o: ScheduledProcessorOptions) {
    this.logger = o.logger.child({ queue: QUEUE_NAMES.scheduled });
    this.redis = workerConnection(o, 'scheduled worker');
    this.worker = new Worker(QUEUE_NAMES.scheduled, (job) => this.process(job), {
      connection: this.redis,
      prefix: bullPrefix(o.redisPrefix),
      concurrency: o.concurrency ?? 8,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLED,
      autorun: false,
    });
    this.worker.on('error', (err) => this.logger.warn({ err }, 'scheduled worker error'));
    this.worker.on('failed', (job, err) => this.logger.warn({ err, job: job?.id, attempts: job?.attemptsMade }, 'scheduled message job failed (retried while attempts remain)'));
    this.worker.on('stalled', (jobId) => this.logger.warn({ job: jobId }, 'scheduled message job stalled (its runner died): it runs again'));
  }

  start(): void {
    // run() resolves only when the worker closes; its failures are the worker's 'error' events.
    this.worker.run().catch((err: unknown) => this.logger.error({ err }, 'scheduled worker stopped'));
  }

  /** Stops taking jobs on this node (others' processors take them); running ones finish. */
  async pause(): Promise<void> {
    await this.worker.pause();
  }

  resume(): void {
    this.worker.resume();
  }

  /** Lets running jobs finish (their sends are answered or time out), then closes. */
  async close(): Promise<void> {
    await this.worker.close();
    // A connection handed to BullMQ is the caller's to close (the worker's blocking one is its own duplicate).
    this.redis.disconnect();
  }

  private async process(job: Job): Promise<{ outcome: ScheduledOutcome; message_id?: string }> {
    const data = parseScheduledJob(job.data);
    if (!data) {
      this.logger.error({ job: job.id }, 'malformed scheduled message job: dropped');
      return { outcome: 'malformed' };
    }
    const row = await getScheduled(this.o.pg, data.scheduled_id);
    if (!row) return { outcome: 'missing' };
    if (!isPending(row)) return { outcome: 'not-pending' };
    let result: SendResult;
    try {
      result = await this.o.send(row);
    } catch (err) {
      if (err instanceof WhisprError && FINAL.has(err.code)) {
        const failure = `${err.code}: ${err.message}`;
        await markScheduledFailed(this.o.pg, row.id, failure, Date.now());
        this.logger.info({ scheduled: row.id, conversation: row.conversation_id, failure }, 'scheduled message not sent: marked failed');
        return { outcome: 'failed' };
      }
      throw err;
    }
    if (result.duplicate) {
      // Already stored under its (sender, client_random): make sure the row says so.
      await markScheduledSentBy(this.o.pg, row.id, result.message.id);
      return { outcome: 'duplicate', message_id: result.message.id };
    }
    this.logger.debug({ scheduled: row.id, message: result.message.id }, 'scheduled message sent');
    return { outcome: 'sent', message_id: result.message.id };
  }
}
