/**
 * A per-user token bucket (seed §5.4), on this node: the send rate, and the
 * budget for requests about conversations that do not exist. `take` returns 0
 * when the request may go ahead, or how many ms until one token is back.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ratePerSecond: number, private readonly burst: number) {
    if (!(ratePerSecond > 0)) throw new TypeError(`RateLimiter ratePerSecond must be positive, got ${ratePerSecond}`);
    if (!(burst >= 1)) throw new TypeError(`RateLimiter burst must be at least 1, got ${burst}`);
    // Full buckets carry no information: forget them so memory follows active senders only.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  take(key: string, now = Date.now()): number {
    const bucket = this.refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return this.waitFor(bucket);
  }

  /** How many ms until a token is there (0: one is there now), without taking it. */
  wait(key: string, now = Date.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.ratePerSecond) * 1000);
  }

  /** Gives back a token taken for a request that was then not carried out (it could not be routed). */
  refund(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.burst, bucket.tokens + 1);
  }

  private refill(key: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return bucket;
  }

  private waitFor(bucket: { tokens: number }): number {
    return Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
  }

  private sweep(now = Date.now()): void {
    for (const [key, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
