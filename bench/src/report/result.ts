/**
 * The result of one run: `summary` is the flat object printed as the last stdout
 * line with --json; the rest is the detail that results.json and the HTML report keep.
 */
import type { PgCeilingResult } from '../ceilings/pg-ceiling.ts';
import type { TransportCeilingResult } from '../ceilings/transport-ceiling.ts';
import type { LatencySummary } from '../metrics/latency-histogram.ts';
import type { MachineInfo } from '../metrics/machine.ts';
import type { CpuUse } from '../metrics/cpu-use.ts';
import type { NodeTraffic } from '../metrics/node-traffic.ts';
import type { TableCounts } from '../metrics/pg-table-stats.ts';
import type { TimelinePoint } from '../metrics/timeline.ts';
import type { WriterUse } from '../metrics/node-metrics.ts';
import type { ActivityShare } from '../metrics/pg-activity.ts';
import type { Verification } from '../verify/verify-messages.ts';

export interface Summary {
  scenario: string;
  mode: 'closed' | 'open' | null;
  duration_s: number;
  acked: number;
  acked_per_s: number;
  delivered_per_s: number;
  p50_ack_ms: number;
  p99_ack_ms: number;
  p999_ack_ms: number;
  p50_deliver_ms: number;
  p99_deliver_ms: number;
  p999_deliver_ms: number;
  ceiling_per_s: number | null;
  ratio_to_ceiling: number | null;
  transport_ceiling_per_s: number | null;
  server_rss_mb: number | null;
  server_cpu_s: number | null;
  /** null when the run could not be verified (no database URL) */
  lost: number | null;
  duplicated: number | null;
  errors: number;
  undelivered: number;
  unanswered: number;
  report: string;
  [extra: string]: number | string | null;
}

export interface BenchResult {
  summary: Summary;
  command: string;
  started_at: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  postgres_version: string | null;
  ceilings: { pg: PgCeilingResult | null; transport: TransportCeilingResult | null };
  latency: { ack: LatencySummary; deliver: LatencySummary };
  timeline: TimelinePoint[];
  cpu: CpuUse;
  server_rss_mb_start: number | null;
  server_rss_mb_peak: number | null;
  rows_written: TableCounts | null;
  /** The nodes' shard writers during the measured phase (from their /metrics, summed). */
  writers: WriterUse | null;
  /** Each node's forwarding, bus traffic and main-thread pauses in the measured phase (its /metrics); null for a node that did not answer. */
  node_traffic: Array<NodeTraffic | null>;
  /** The node's PostgreSQL sessions that were not idle, sampled every 20 ms in the measured phase. */
  pg_activity: ActivityShare[];
  verification: Verification | null;
  errors_by_code: Record<string, number>;
  notes: string[];
}
