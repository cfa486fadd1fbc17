/**
 * What operators see of the queues (docs/operations.md, "Queues"): per queue,
 * jobs by state and the lag of the oldest job due and not yet taken, read from
 * Redis when /metrics is scraped (not on a timer, so an idle node costs
 * nothing); and a periodic log line with the same counts.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
type State = (typeof STATES)[number];
const LOG_EVERY_MS = 60_000;

async function countsOf(queue: Queue): Promise<Record<State, number>> {
  const counts = await queue.getJobCounts(...STATES);
  const out = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
  for (const s of STATES) out[s] = counts[s] ?? 0;
  return out;
}

/** Seconds since the oldest waiting job became due (0 when none waits). */
async function lagOf(queue: Queue, now: number): Promise<number> {
  const [oldest] = await queue.getWaiting(0, 0);
  if (!oldest) return 0;
  return Math.max(0, now - (oldest.timestamp + (oldest.delay ?? 0))) / 1000;
}

export class QueueMetrics {
  private readonly timer: NodeJS.Timeout;

  constructor(registry: Registry, private readonly queues: readonly Queue[], private readonly logger: Logger) {
    const jobs: Gauge<'queue' | 'state'> = new Gauge({
      name: 'whispr_queue_jobs',
      help: 'Jobs per BullMQ queue and state (waiting, active, delayed, failed, completed), cluster-wide',
      labelNames: ['queue', 'state'],
      registers: [registry],
      collect: async () => {
        for (const queue of this.queues) {
          const counts = await countsOf(queue).catch((err: unknown) => this.unreadable(queue, err));
          if (counts) for (const s of STATES) jobs.set({ queue: queue.name, state: s }, counts[s]);
        }
      },
    });
    const lag: Gauge<'queue'> = new Gauge({
      name: 'whispr_queue_lag_seconds',
      help: 'Seconds since the oldest waiting job of the queue became due (how far its processors are behind)',
      labelNames: ['queue'],
      registers: [registry],
      collect: async () => {
        const now = Date.now();
        for (const queue of this.queues) {
          const seconds = await lagOf(queue, now).catch((err: unknown) => this.unreadable(queue, err));
          if (seconds !== null) lag.set({ queue: queue.name }, seconds);
        }
      },
    });
    this.timer = setInterval(() => void this.log(), LOG_EVERY_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private unreadable(queue: Queue, err: unknown): null {
    this.logger.warn({ err, queue: queue.name }, 'queue counts unreadable (Redis?)');
    return null;
  }

  private async log(): Promise<void> {
    const now = Date.now();
    for (const queue of this.queues) {
      try {
        const [counts, lag] = await Promise.all([countsOf(queue), lagOf(queue, now)]);
        this.logger.info({ queue: queue.name, ...counts, lagSeconds: lag }, 'queue');
      } catch (err) {
        this.unreadable(queue, err);
      }
    }
  }
}
