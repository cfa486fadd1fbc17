/**
 * Closed loop: every lane keeps `window` sends unacknowledged; each reply frees a
 * slot for the next send. Measures throughput; its latency is the latency under
 * that offered concurrency (coordinated omission applies: use the open loop for latency).
 */
import { now } from '../util/time.ts';
import type { Lane } from './lanes.ts';
import type { SendTracker } from './send-tracker.ts';

export class ClosedLoop {
  private running = false;

  constructor(
    private readonly tracker: SendTracker,
    private readonly lanes: readonly Lane[],
    private readonly window: number,
  ) {}

  start(): void {
    this.running = true;
    this.tracker.onSettled = (lane) => this.fill(lane);
    for (const lane of this.lanes) this.fill(lane);
  }

  stop(): void {
    this.running = false;
  }

  private fill(lane: Lane): void {
    // A lane whose connections are gone stops: its sends would only fail, as fast as they are made.
    if (!lane.senders.some((s) => s.socket.isOpen)) return;
    while (this.running && lane.inFlight < this.window) this.tracker.send(lane, now());
  }
}
