/**
 * The per-user rate of every operation (protocol/op-rates.ts): one token bucket
 * per rate class, the send class at the configured rate. A request takes its
 * token when it is routed, and gets it back if it could not be carried out
 * (no owner reachable), so a client retrying through a failover is not charged
 * for requests that never ran.
 */
import { OP_RATE_CLASS, type Limits, type Op, type RateClass } from '@whispr/protocol';
import { RateLimiter } from './rate-limiter.ts';

export class OpRateLimits {
  private readonly limiters: Readonly<Record<RateClass, RateLimiter>>;

  constructor(limits: Pick<Limits, 'send_rate_per_s' | 'send_burst' | 'op_rates'>) {
    this.limiters = {
      send: new RateLimiter(limits.send_rate_per_s, limits.send_burst),
      write: new RateLimiter(limits.op_rates.write.per_s, limits.op_rates.write.burst),
      read: new RateLimiter(limits.op_rates.read.per_s, limits.op_rates.read.burst),
      typing: new RateLimiter(limits.op_rates.typing.per_s, limits.op_rates.typing.burst),
      receipt: new RateLimiter(limits.op_rates.receipt.per_s, limits.op_rates.receipt.burst),
    };
  }

  /** 0 when `op` may run now (its token is taken), else how many ms until one is back. */
  take(op: Op, userId: string): number {
    return this.limiters[OP_RATE_CLASS[op]].take(userId);
  }

  refund(op: Op, userId: string): void {
    this.limiters[OP_RATE_CLASS[op]].refund(userId);
  }

  close(): void {
    for (const limiter of Object.values(this.limiters)) limiter.close();
  }
}
