/**
 * Per-sender token bucket for msg.send (seed §5.4), on this node. `take` returns
 * 0 when a send may go ahead, or how many ms until one token is back.
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
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
  }

  private sweep(now = Date.now()): void {
    for (const [key, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
