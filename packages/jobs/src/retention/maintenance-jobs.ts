/**
 * The maintenance jobs on one node (docs/retention.md): every node schedules
 * the current period's runs on each tick (the job ids make that one job per
 * period however many nodes do it) and runs a worker that takes them one at a
 * time, whichever node's turn it is:
 *
 * - `retention`, daily: retention-run.ts;
 * - `archival`, daily: archival-run.ts;
 * - `usage`, hourly: a usage_metrics snapshot with the cluster's p95 delivery
 *   latency over the last hour (store/delivery-latency.ts).
 *
 * A run that fails is retried by BullMQ (on any node) with backoff; its work is
 * idempotent (tombstones stay tombstones, an archived conversation is not
 * active any more). Each run is logged with what it did, and counted in
 * /metrics (whispr_maintenance_*).
 */
import { Queue, Worker, type Job } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createPgPool, insertUsageSnapshot, readDeliveryLatency, type UsageSnapshot } from '@whispr/store';
import type { Redis } from 'ioredis';
import { runArchival, type ArchivalRunSummary } from './archival-run.ts';
import {
  MAINTENANCE_KINDS, MAINTENANCE_QUEUE, bullPrefixOf, keepFinishedSeconds, maintenanceConnection, periodJobId,
  type MaintenanceKind, type OwnerCalls,
} from './maintenance-queue.ts';
import { runRetention, type RetentionRunSummary } from './retention-run.ts';

export interface MaintenanceOptions {
  redisUrl: string;
  redisPrefix: string;
  databaseUrl: string;
  logger: Logger;
  /** How the runs reach each conversation's owner (node.internal). */
  calls: OwnerCalls;
  /** Where whispr_maintenance_* go (the node's /metrics registry). */
  registry?: Registry;
  /** Conversations without activity for this many days are archived (default 90). */
  archiveInactiveDays?: number;
  /** How often this node schedules the current period's runs (default 60 s). */
  tickMs?: number;
  /** Seqs per retention window (default and at most RETENTION_BATCH_MAX). */
  retentionBatch?: number;
}

const ATTEMPTS = 4;
const BACKOFF_MS = 30_000;

type RunResult = RetentionRunSummary | ArchivalRunSummary | UsageSnapshot;

const isKind = (name: string): name is MaintenanceKind => (MAINTENANCE_KINDS as readonly string[]).includes(name);

export class MaintenanceJobs {
  readonly queue: Queue;
  private readonly worker: Worker;
  private readonly pool: pg.Pool;
  private readonly reads: Redis;
  /** BullMQ does not close connections it was given: close() does. */
  private readonly connections: Redis[] = [];
  private readonly timer: NodeJS.Timeout;
  private stopping = false;
  private readonly runs: Counter<'job' | 'outcome'>;
  private readonly items: Counter<'job' | 'item'>;
  private readonly lastRun: Gauge<'job'>;
  private readonly lastSuccess: Gauge<'job'>;

  constructor(private readonly o: MaintenanceOptions) {
    const prefix = bullPrefixOf(o.redisPrefix);
    this.pool = createPgPool({ connectionString: o.databaseUrl, max: 2, applicationName: 'whispr maintenance', logger: o.logger });
    this.reads = maintenanceConnection(o.redisUrl, o.logger, 'maintenance reads', false);
    const producer = maintenanceConnection(o.redisUrl, o.logger, 'maintenance producer', false);
    const consumer = maintenanceConnection(o.redisUrl, o.logger, 'maintenance worker', true);
    this.connections.push(this.reads, producer, consumer);
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: producer, prefix });
    this.queue.on('error', (err) => o.logger.warn({ err, queue: MAINTENANCE_QUEUE }, 'queue error'));
    const registers = o.registry ? [o.registry] : [];
    this.runs = new Counter({ name: 'whispr_maintenance_runs_total', help: 'Maintenance runs finished on this node, by job and outcome', labelNames: ['job', 'outcome'], registers });
    this.items = new Counter({ name: 'whispr_maintenance_items_total', help: 'What maintenance runs on this node did (messages expired, attachments removed, conversations archived, batches)', labelNames: ['job', 'item'], registers });
    this.lastRun = new Gauge({ name: 'whispr_maintenance_last_run_seconds', help: 'Duration of the last run on this node', labelNames: ['job'], registers });
    this.lastSuccess = new Gauge({ name: 'whispr_maintenance_last_success_timestamp_seconds', help: 'When the last successful run on this node finished (Unix time)', labelNames: ['job'], registers });
    const jobs: Gauge<'state'> = new Gauge({
      name: 'whispr_maintenance_jobs', help: 'Maintenance jobs by state, cluster-wide', labelNames: ['state'], registers,
      collect: async () => {
        const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts)) jobs.set({ state }, n);
      },
    });

    this.worker = new Worker(MAINTENANCE_QUEUE, (job) => this.process(job), {
      connection: consumer, prefix, concurrency: 1,
    });
    this.worker.on('error', (err) => o.logger.warn({ err, queue: MAINTENANCE_QUEUE }, 'maintenance worker error'));
    this.worker.on('failed', (job, err) => {
      o.logger.warn({ err, job: job?.id, attempt: job?.attemptsMade, attempts: ATTEMPTS }, 'maintenance run failed');
    });
    this.timer = setInterval(() => {
      this.schedule().catch((err: unknown) => o.logger.warn({ err }, 'maintenance runs could not be scheduled; next tick retries'));
    }, o.tickMs ?? 60_000);
    this.timer.unref();
  }

  /** Schedules the runs of the period holding `at` (default now); any number of calls, on any nodes, make one job per kind and period. */
  async schedule(at = Date.now(), kinds: readonly MaintenanceKind[] = MAINTENANCE_KINDS): Promise<string[]> {
    const ids: string[] = [];
    for (const kind of kinds) {
      const jobId = periodJobId(kind, at);
      await this.queue.add(kind, { v: 1, kind, period: jobId }, {
        jobId,
        attempts: ATTEMPTS,
        backoff: { type: 'exponential', delay: BACKOFF_MS },
        removeOnComplete: { age: keepFinishedSeconds(kind) },
        removeOnFail: { age: keepFinishedSeconds(kind) },
      });
      ids.push(jobId);
    }
    return ids;
  }

  /** Starts scheduling now (the timer's first tick is a minute away). */
  async start(): Promise<void> {
    await this.schedule();
  }

  private async process(job: Job): Promise<RunResult> {
    if (!isKind(job.name)) throw new Error(`unknown maintenance job ${job.name}`);
    const kind = job.name;
    const started = Date.now();
    this.o.logger.info({ job: job.id, attempt: job.attemptsMade + 1 }, 'maintenance run started');
    try {
      const result = await this.run(kind, job, started);
      const seconds = (Date.now() - started) / 1000;
      this.runs.inc({ job: kind, outcome: 'completed' });
      this.lastRun.set({ job: kind }, seconds);
      this.lastSuccess.set({ job: kind }, Date.now() / 1000);
      this.count(kind, result);
      this.o.logger.info({ job: job.id, seconds, ...result }, 'maintenance run completed');
      return result;
    } catch (err) {
      this.runs.inc({ job: kind, outcome: 'failed' });
      this.lastRun.set({ job: kind }, (Date.now() - started) / 1000);
      throw err;
    }
  }

  private async run(kind: MaintenanceKind, job: Job, now: number): Promise<RunResult> {
    const stopping = (): boolean => this.stopping;
    switch (kind) {
      case 'retention': {
        let reported = 0;
        const summary = await runRetention({
          pg: this.pool, calls: this.o.calls, logger: this.o.logger, now, stopping,
          ...(this.o.retentionBatch !== undefined ? { batch: this.o.retentionBatch } : {}),
          onBatch: (s) => {
            // Progress for operators every 100 batches; not awaited, it is only a report.
            if (s.batches - reported < 100) return;
            reported = s.batches;
            job.updateProgress({ ...s }).catch((err: unknown) => this.o.logger.debug({ err }, 'retention progress not recorded'));
          },
        });
        if (summary.failed > 0) throw new Error(`retention failed in ${summary.failed} conversation(s) (see the log); the run is retried`);
        return summary;
      }
      case 'archival': {
        const summary = await runArchival({ pg: this.pool, calls: this.o.calls, logger: this.o.logger, now, inactiveDays: this.o.archiveInactiveDays ?? 90, stopping });
        if (summary.failed > 0) throw new Error(`archival failed for ${summary.failed} conversation(s) (see the log); the run is retried`);
        return summary;
      }
      case 'usage': {
        const latency = await readDeliveryLatency(this.reads, this.o.redisPrefix, now - 3600_000, now);
        return insertUsageSnapshot(this.pool, now, latency.p95Ms);
      }
    }
  }

  private count(kind: MaintenanceKind, result: RunResult): void {
    if ('expired' in result) {
      this.items.inc({ job: kind, item: 'messages_expired' }, result.expired);
      this.items.inc({ job: kind, item: 'attachments_removed' }, result.mediaRemoved);
      this.items.inc({ job: kind, item: 'batches' }, result.batches);
    } else if ('archived' in result) {
      this.items.inc({ job: kind, item: 'conversations_archived' }, result.archived);
    } else {
      this.items.inc({ job: kind, item: 'snapshots' });
    }
  }

  /** Stops between batches: an active run fails and is retried later (by another node, or after the restart). */
  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.worker.close();
    await this.queue.close();
    await this.pool.end();
    for (const c of this.connections) c.disconnect();
  }
}
