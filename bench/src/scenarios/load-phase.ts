/**
 * The measured phase shared by the sending scenarios: warm-up, then `duration`
 * seconds of closed- or open-loop sends with the progress bar running, then a
 * drain that waits for outstanding acks and deliveries (bounded), so every ack
 * can be verified and every delivery counted.
 */
import { ClosedLoop } from '../load/closed-loop.ts';
import type { Lane } from '../load/lanes.ts';
import { OpenLoop } from '../load/open-loop.ts';
import { openSends, type SendTracker } from '../load/send-tracker.ts';
import { now, sleep, waitFor } from '../util/time.ts';
import type { ScenarioContext, ScenarioOutcome } from './scenario.ts';

const DRAIN_TIMEOUT_MS = 15_000;

export interface LoadPhaseResult {
  ackedInWindow: number;
  deliveredInWindow: number;
  unanswered: number;
  undelivered: number;
  skipped: number;
}

export async function runLoadPhase(context: ScenarioContext, tracker: SendTracker, lanes: readonly Lane[], label: string): Promise<LoadPhaseResult> {
  const { options, progress } = context;
  const t0 = now();
  const measureFrom = t0 + options.warmupS * 1000;
  const measureTo = measureFrom + options.durationS * 1000;
  tracker.measure(measureFrom, options.durationS);
  const loop = options.rate === null ? new ClosedLoop(tracker, lanes, options.window) : new OpenLoop(tracker, lanes, options.rate);
  progress.start(label, options.warmupS + options.durationS);
  loop.start();
  let started = false;
  while (now() < measureTo) {
    await sleep(Math.min(250, Math.max(1, measureTo - now())));
    const t = now();
    if (!started && t >= measureFrom) {
      started = true;
      context.measureStarted(measureFrom);
    }
    progress.update((t - t0) / 1000, {
      ackedPerS: tracker.timeline.recentAckRate(t),
      deliveredPerS: tracker.timeline.recentDeliveryRate(t),
      errors: tracker.errors,
      note: t < measureFrom ? '(warm-up)' : '',
    });
  }
  loop.stop();
  if (!started) context.measureStarted(measureFrom);
  context.measureEnded(measureTo);
  progress.stop();
  await waitFor(() => tracker.open === 0, DRAIN_TIMEOUT_MS);
  const points = tracker.timeline.points(Math.ceil(options.durationS));
  const open = openSends(lanes.flatMap((l) => l.senders));
  return {
    ackedInWindow: points.reduce((sum, p) => sum + p.acked, 0),
    deliveredInWindow: points.reduce((sum, p) => sum + p.delivered, 0),
    unanswered: open.unanswered,
    undelivered: open.undelivered,
    skipped: loop instanceof OpenLoop ? loop.skipped : 0,
  };
}

/** The outcome of a sending scenario from its load phase; `extra` holds the scenario's own figures. */
export function loadPhaseOutcome(
  durationS: number,
  tracker: SendTracker,
  lanes: Lane[],
  phase: LoadPhaseResult,
  extra: Record<string, number | null>,
): ScenarioOutcome {
  return {
    durationS,
    acked: tracker.acked,
    ackedInWindow: phase.ackedInWindow,
    messagesWrittenInWindow: phase.ackedInWindow,
    deliveredInWindow: phase.deliveredInWindow,
    errors: tracker.errors,
    errorsByCode: tracker.errorsByCode,
    ackLatency: tracker.ackLatency,
    deliverLatency: tracker.deliverLatency,
    timeline: tracker.timeline,
    lanes,
    undelivered: phase.undelivered,
    unanswered: phase.unanswered,
    extra,
    notes: [],
  };
}
