/** The flat summary of a run: the object `--json` prints as its last line. */
import type { BenchOptions } from '../cli/options.ts';
import type { PgCeilingResult } from '../ceilings/pg-ceiling.ts';
import type { TransportCeilingResult } from '../ceilings/transport-ceiling.ts';
import type { CpuSnapshot } from '../metrics/server-monitor.ts';
import { scenarios } from '../scenarios/index.ts';
import type { ScenarioOutcome } from '../scenarios/scenario.ts';
import type { Verification } from '../verify/verify-messages.ts';
import type { Summary } from './result.ts';

const MB = 1024 * 1024;
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function summarize(
  options: BenchOptions,
  outcome: ScenarioOutcome,
  pgCeiling: PgCeilingResult | null,
  transportCeiling: TransportCeilingResult | null,
  end: CpuSnapshot,
  serverCpuS: number | null,
  verification: Verification | null,
  dir: string,
): Summary {
  const ackedPerS = outcome.ackedInWindow / outcome.durationS;
  const ack = outcome.ackLatency;
  const deliver = outcome.deliverLatency;
  const lost = verification === null ? null : verification.lost + verification.mismatched + verification.seq_gaps;
  return {
    scenario: options.scenario,
    mode: scenarios[options.scenario]?.loadShape(options) === null ? null : options.rate === null ? 'closed' : 'open',
    duration_s: outcome.durationS,
    acked: outcome.acked,
    acked_per_s: round(ackedPerS, 1),
    delivered_per_s: round(outcome.deliveredInWindow / outcome.durationS, 1),
    p50_ack_ms: round(ack.at(50), 3),
    p99_ack_ms: round(ack.at(99), 3),
    p999_ack_ms: round(ack.at(99.9), 3),
    p50_deliver_ms: round(deliver.at(50), 3),
    p99_deliver_ms: round(deliver.at(99), 3),
    p999_deliver_ms: round(deliver.at(99.9), 3),
    ceiling_per_s: pgCeiling === null ? null : round(pgCeiling.per_s, 1),
    ratio_to_ceiling: pgCeiling === null || pgCeiling.per_s === 0 ? null : round(ackedPerS / pgCeiling.per_s, 3),
    transport_ceiling_per_s: transportCeiling === null ? null : round(transportCeiling.per_s, 1),
    server_rss_mb: end.server === null ? null : round(end.server.rssBytes / MB, 1),
    server_cpu_s: serverCpuS === null ? null : round(serverCpuS, 2),
    lost,
    duplicated: verification === null ? null : verification.duplicated + verification.failed_but_stored,
    errors: outcome.errors,
    undelivered: outcome.undelivered,
    unanswered: outcome.unanswered,
    ...outcome.extra,
    report: dir,
  };
}
