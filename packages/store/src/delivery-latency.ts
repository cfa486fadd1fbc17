/**
 * Delivery latency as the nodes measure it: from a message's sent_at (stamped
 * by its owner at commit) to the moment its msg.new is handed to the sockets
 * (this node's connections, or the node-to-node link for the others), after the
 * presence look-up and the offline queue write. One figure per message, not per
 * recipient.
 *
 * Each shard counts into a fixed histogram in memory and adds its counts to
 * Redis every FLUSH_MS, in one hash per minute (`metrics:delivery_ms:{minute}`,
 * a field per bucket, kept 2 hours), so any node's usage_metrics job can read
 * the whole cluster's figures for a period and take their p95 without asking
 * every node. A failed flush loses those seconds of figures (logged), never
 * blocks delivery.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Upper bounds (ms) of the histogram's buckets; a last bucket takes everything above. */
export const DELIVERY_BUCKETS_MS: readonly number[] = [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000];
const FLUSH_MS = 5_000;
const MINUTE_MS = 60_000;
const KEEP_S = 2 * 3600;
/** The longest period one read may cover (each minute is one HGETALL). */
const MAX_READ_MINUTES = 24 * 60;

export const deliveryLatencyKey = (prefix: string, minute: number): string => `${prefix}metrics:delivery_ms:${minute}`;

function bucketOf(ms: number): number {
  for (let i = 0; i < DELIVERY_BUCKETS_MS.length; i++) if (ms <= (DELIVERY_BUCKETS_MS[i] ?? Infinity)) return i;
  return DELIVERY_BUCKETS_MS.length;
}

export class DeliveryLatencyRecorder {
  private counts = new Array<number>(DELIVERY_BUCKETS_MS.length + 1).fill(0);
  private recorded = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly logger: Logger) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  record(ms: number): void {
    const i = bucketOf(Math.max(0, ms));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.recorded++;
  }

  /** Adds the counts so far to this minute's hash; resolves once written (or given up on). */
  async flush(): Promise<void> {
    if (this.recorded === 0) return;
    const counts = this.counts;
    this.counts = new Array<number>(DELIVERY_BUCKETS_MS.length + 1).fill(0);
    this.recorded = 0;
    const key = deliveryLatencyKey(this.prefix, Math.floor(Date.now() / MINUTE_MS));
    const pipeline = this.redis.pipeline();
    counts.forEach((n, i) => {
      if (n > 0) pipeline.hincrby(key, String(i), n);
    });
    pipeline.expire(key, KEEP_S);
    try {
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    } catch (err) {
      this.logger.warn({ err, lost: counts.reduce((a, b) => a + b, 0) }, 'delivery latency figures could not be written to Redis; these are lost');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export interface DeliveryLatencySummary {
  /** Messages measured in the period, over every node. */
  count: number;
  /** The upper bound of the bucket holding the 95th percentile (ms); 0 when nothing was measured. */
  p95Ms: number;
}

/** The cluster's figures for the minutes from `fromMs` up to `toMs`. */
export async function readDeliveryLatency(redis: Redis, prefix: string, fromMs: number, toMs: number): Promise<DeliveryLatencySummary> {
  const last = Math.floor(toMs / MINUTE_MS);
  const first = Math.max(Math.floor(fromMs / MINUTE_MS), last - MAX_READ_MINUTES + 1);
  const pipeline = redis.pipeline();
  for (let m = first; m <= last; m++) pipeline.hgetall(deliveryLatencyKey(prefix, m));
  const results = (await pipeline.exec()) ?? [];
  const counts = new Array<number>(DELIVERY_BUCKETS_MS.length + 1).fill(0);
  for (const [err, hash] of results) {
    if (err) throw err;
    if (hash === null || typeof hash !== 'object') continue;
    for (const [field, value] of Object.entries(hash)) {
      const i = Number(field);
      const n = Number(value);
      if (Number.isInteger(i) && i >= 0 && i < counts.length && Number.isFinite(n)) counts[i] = (counts[i] ?? 0) + n;
    }
  }
  return summarize(counts);
}

function summarize(counts: readonly number[]): DeliveryLatencySummary {
  const count = counts.reduce((a, b) => a + b, 0);
  if (count === 0) return { count: 0, p95Ms: 0 };
  const rank = Math.ceil(count * 0.95);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    // The overflow bucket has no upper bound: its lower one is reported.
    if (seen >= rank) return { count, p95Ms: DELIVERY_BUCKETS_MS[i] ?? DELIVERY_BUCKETS_MS[DELIVERY_BUCKETS_MS.length - 1] ?? 0 };
  }
  return { count, p95Ms: 0 };
}
