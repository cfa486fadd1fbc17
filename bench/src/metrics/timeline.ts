/**
 * Per-second counters of the measured phase (acks, deliveries, errors) and the
 * server's resource samples, for the throughput-over-time chart and the live bar.
 */
import { now } from '../util/time.ts';

export interface TimelinePoint {
  t_s: number;
  acked: number;
  delivered: number;
  errors: number;
  /** server resident memory at the end of this second, MiB (null when unknown) */
  server_rss_mb: number | null;
  /** server CPU use during this second, in cores (1.0 = one core busy) */
  server_cpu_cores: number | null;
  /** the slowest ack (from its intended send time) that arrived in this second, ms; null when none was measured */
  max_ack_ms: number | null;
}

export class Timeline {
  private startedAt = 0;
  private readonly acked: number[] = [];
  private readonly delivered: number[] = [];
  private readonly errors: number[] = [];
  private readonly maxAck: number[] = [];
  private readonly rss = new Map<number, number>();
  private readonly cpu = new Map<number, number>();

  start(at = now()): void {
    this.startedAt = at;
  }

  /** Second index for a monotonic time; negative before the measured phase. */
  secondOf(at: number): number {
    return Math.floor((at - this.startedAt) / 1000);
  }

  addAck(at: number, count = 1): void {
    bump(this.acked, this.secondOf(at), count);
  }

  /** A measured ack's latency: tells a steady tail from stalls (a few slow seconds). */
  addAckLatency(at: number, ms: number): void {
    const second = this.secondOf(at);
    if (second >= 0 && ms > (this.maxAck[second] ?? 0)) this.maxAck[second] = ms;
  }

  addDelivery(at: number): void {
    bump(this.delivered, this.secondOf(at));
  }

  addError(at: number): void {
    bump(this.errors, this.secondOf(at));
  }

  addServerSample(at: number, rssMb: number, cpuCores: number): void {
    const second = this.secondOf(at);
    if (second < 0) return;
    this.rss.set(second, rssMb);
    this.cpu.set(second, cpuCores);
  }

  /** Acks in the last whole second, for the progress bar. */
  recentAckRate(at = now()): number {
    return this.acked[this.secondOf(at) - 1] ?? 0;
  }

  recentDeliveryRate(at = now()): number {
    return this.delivered[this.secondOf(at) - 1] ?? 0;
  }

  points(seconds: number): TimelinePoint[] {
    const out: TimelinePoint[] = [];
    for (let s = 0; s < seconds; s++) {
      out.push({
        t_s: s + 1,
        acked: this.acked[s] ?? 0,
        delivered: this.delivered[s] ?? 0,
        errors: this.errors[s] ?? 0,
        server_rss_mb: this.rss.get(s) ?? null,
        server_cpu_cores: this.cpu.get(s) ?? null,
        max_ack_ms: this.maxAck[s] ?? null,
      });
    }
    return out;
  }
}

function bump(counts: number[], second: number, count = 1): void {
  if (second < 0) return;
  counts[second] = (counts[second] ?? 0) + count;
}
