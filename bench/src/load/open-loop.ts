/**
 * Open loop: sends arrive at a fixed total rate whatever the service does, each
 * with its scheduled time; latency runs from that scheduled time, so a stall
 * shows up in every send it delayed (no coordinated omission). Lanes get the rate
 * in equal shares with staggered phases so arrivals are spread evenly.
 */
import { now } from '../util/time.ts';
import type { Lane } from './lanes.ts';
import type { SendTracker } from './send-tracker.ts';

/** A lane this far behind stops queuing more: the run is overloaded and says so through its latency. */
const MAX_IN_FLIGHT_PER_LANE = 20_000;

export class OpenLoop {
  private timer: NodeJS.Timeout | null = null;
  private readonly due: number[] = [];
  private readonly intervalMs: number;
  /** Sends skipped because a lane had too many in flight. */
  skipped = 0;

  constructor(
    private readonly tracker: SendTracker,
    private readonly lanes: readonly Lane[],
    ratePerS: number,
  ) {
    this.intervalMs = (1000 * lanes.length) / ratePerS;
  }

  start(at = now()): void {
    this.lanes.forEach((_, i) => this.due.push(at + (this.intervalMs * i) / this.lanes.length));
    this.tick();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const t = now();
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.lanes.length; i++) {
      const lane = this.lanes[i] as Lane;
      let due = this.due[i] as number;
      while (due <= t) {
        if (lane.inFlight < MAX_IN_FLIGHT_PER_LANE && lane.senders.some((s) => s.socket.isOpen)) this.tracker.send(lane, due);
        else this.skipped++;
        due += this.intervalMs;
      }
      this.due[i] = due;
      next = Math.min(next, due);
    }
    // setTimeout has ~1 ms granularity; sends that fall due in between go out at the next tick with their own due time.
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - now()));
  }
}
