/**
 * The side-by-side table of tools/across-nodes.ts (docs/performance.md "Across
 * nodes"): one row per run, the figures the comparison is about, and per round
 * the ratio of cross-node to one-node throughput (both from the same round, run
 * back to back, so the machine's drift between rounds cancels out of it).
 */
import type { Summary } from '../report/result.ts';

export interface AcrossRun {
  round: number;
  label: string;
  summary: Summary;
  /** Load average (1 min) when the run started. */
  load: number | null;
}

const fmt = (value: unknown, digits = 1): string => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: digits });
  return String(value);
};

export function acrossTable(runs: readonly AcrossRun[]): string {
  const head = '| round | configuration | acked/s | p50 / p99 ack ms | p50 / p99 deliver ms | node CPU µs/ack (summed) | PostgreSQL CPU µs/ack (all / run\'s backends) | bench µs/ack | forwarded share | lost / dup / errors | load |';
  const rows = runs.map((r) => {
    const s = r.summary;
    return `| ${r.round} | ${r.label} | ${fmt(s.acked_per_s)} | ${fmt(s.p50_ack_ms)} / ${fmt(s.p99_ack_ms)} | ${fmt(s.p50_deliver_ms)} / ${fmt(s.p99_deliver_ms)} | ${fmt(s['node_cpu_us_per_ack'])} | ${fmt(s['postgres_cpu_us_per_ack'])} / ${fmt(s['postgres_db_cpu_us_per_ack'])} | ${fmt(s['bench_cpu_us_per_ack'])} | ${fmt(s['forwarded_share'], 4)} | ${fmt(s.lost)} / ${fmt(s.duplicated)} / ${fmt(s.errors)} | ${fmt(r.load)} |`;
  });
  return [head, `|${'---|'.repeat(11)}`, ...rows].join('\n');
}

/** Cross-node over one-node acked/s of each round that has both. */
export function roundRatios(runs: readonly AcrossRun[], oneLabel: string, crossLabel: string): Array<{ round: number; ratio: number }> {
  const rounds = [...new Set(runs.map((r) => r.round))];
  return rounds.flatMap((round) => {
    const one = runs.find((r) => r.round === round && r.label === oneLabel)?.summary.acked_per_s;
    const cross = runs.find((r) => r.round === round && r.label === crossLabel)?.summary.acked_per_s;
    return one === undefined || cross === undefined || one === 0 ? [] : [{ round, ratio: Math.round((cross / one) * 1000) / 1000 }];
  });
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
