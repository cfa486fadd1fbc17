/**
 * The contract between the orchestrator and a scenario: the scenario sets up its
 * clients, runs its measured phase (telling the context when it starts and ends so
 * server CPU is read at exactly those instants), and hands back what it measured.
 */
import type { BenchOptions } from '../cli/options.ts';
import type { Progress } from '../cli/progress.ts';
import type { LatencyHistogram } from '../metrics/latency-histogram.ts';
import type { Timeline } from '../metrics/timeline.ts';
import type { Lane } from '../load/lanes.ts';
import type { Target } from '../target/target.ts';

export interface ScenarioContext {
  options: BenchOptions;
  target: Target;
  progress: Progress;
  /** Call at the first instant of the measured phase. */
  measureStarted(at: number): void;
  /** Call at the last instant of the measured phase (before draining). */
  measureEnded(at: number): void;
}

/** Shape of the load, so the ceilings can be measured with the same shape. */
export interface LoadShape {
  conversations: number;
  membersPerConversation: number;
  /** Sending connections (transport ceiling) and their window. */
  connections: number;
  window: number;
}

export interface ScenarioOutcome {
  /** Seconds of the measured phase. */
  durationS: number;
  acked: number;
  /** Acks that arrived inside the measured phase. */
  ackedInWindow: number;
  /** Messages the service stored during the measured phase (what pg_stat should count, at least). */
  messagesWrittenInWindow: number;
  deliveredInWindow: number;
  errors: number;
  errorsByCode: Record<string, number>;
  /** Latency of the scenario's request (ack of msg.send, or a history page) and of delivery. */
  ackLatency: LatencyHistogram;
  deliverLatency: LatencyHistogram;
  timeline: Timeline;
  /** Conversations whose stored messages verification checks. */
  lanes: Lane[];
  /** Acked sends never delivered to some recipient, sends never answered. */
  undelivered: number;
  unanswered: number;
  /** Scenario-specific figures for the summary (connections, recovery_ms, pages_per_s, …). */
  extra: Record<string, number | null>;
  notes: string[];
}

export interface Scenario {
  name: string;
  /** The write load's shape for the ceilings; null for scenarios that write nothing worth a ceiling. */
  loadShape(options: BenchOptions): LoadShape | null;
  /** Environment for a node the run starts, over the bench's (which lifts the send rate limit). */
  nodeEnv?(options: BenchOptions): Record<string, string>;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}
