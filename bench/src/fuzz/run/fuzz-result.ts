/** What a fuzz run reports: the summary object (results.json, --json) and its printout. */
import type { Violation } from '../oracle/violations.ts';

export interface PairSummary {
  rate_per_s: number;
  sent: number;
  acked: number;
  errors_by_code: Record<string, number>;
  unanswered: number;
  undelivered: number;
  seq_problems: number;
  out_of_order: number;
  foreign_messages: number;
  closes: number[];
  p50_ack_ms: number;
  p99_ack_ms: number;
  max_ack_ms: number;
  /** From PostgreSQL, when the node's database is known. */
  lost: number | null;
  duplicated: number | null;
}

export interface FuzzResult {
  command: string;
  seed: number;
  started_at: string;
  duration_s: number;
  frames: { json: number; msgpack: number; total: number };
  frames_per_s: number;
  replies_by_outcome: Record<string, number>;
  closes_by_code: Record<string, number>;
  events: number;
  reconnects: number;
  filler_pings: number;
  streaks: number;
  /** Bursts of undecodable frames interleaved with valid ones (must not close the connection). */
  interleaved_bursts: number;
  node: {
    /** How the node process exited during the run (a crash), or null. */
    crashed: string | null;
    /** /healthz answered 200 after the run. */
    healthy_at_end: boolean;
    rss_mb_before: number | null;
    rss_mb_after: number | null;
    rss_mb_peak: number | null;
    log: string | null;
  };
  internal_replies: number;
  violations_total: number;
  violations: Violation[];
  pair: PairSummary;
  report: string;
}

const table = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

/** The summary for people: counts, the node, the pair, then every kind of violation with its smallest frame. */
export function formatFuzzResult(result: FuzzResult): string {
  const { node, pair } = result;
  const lines = [
    '',
    `fuzz — ${result.command}`,
    `  seed                ${result.seed}`,
    `  frames              ${result.frames.total} (json ${result.frames.json}, msgpack ${result.frames.msgpack}) in ${result.duration_s} s, ${result.frames_per_s}/s`,
    `  replies             ${table(result.replies_by_outcome)}`,
    `  closes              ${table(result.closes_by_code)} (reconnects ${result.reconnects}, 1008 streaks ${result.streaks}, interleaved bursts ${result.interleaved_bursts}, filler pings ${result.filler_pings})`,
    `  events              ${result.events}`,
    `  node crashed        ${node.crashed ?? 'no'}; healthy at the end: ${node.healthy_at_end ? 'yes' : 'NO'}`,
    `  node RSS            ${node.rss_mb_before ?? '?'} MB before, ${node.rss_mb_after ?? '?'} MB after, ${node.rss_mb_peak ?? '?'} MB peak`,
    `  internal replies    ${result.internal_replies}`,
    `  pair                ${pair.acked}/${pair.sent} sends acked at ${pair.rate_per_s}/s, p50 ${pair.p50_ack_ms} ms, p99 ${pair.p99_ack_ms} ms, max ${pair.max_ack_ms} ms; ` +
      `errors ${table(pair.errors_by_code)}, unanswered ${pair.unanswered}, undelivered ${pair.undelivered}, seq problems ${pair.seq_problems}, ` +
      `out of order ${pair.out_of_order}, foreign messages ${pair.foreign_messages}, lost ${pair.lost ?? '?'}, duplicated ${pair.duplicated ?? '?'}`,
    `  violations          ${result.violations_total} (${result.violations.length} kinds)`,
  ];
  for (const v of result.violations) {
    lines.push(`    [${v.count}×] ${v.property}: ${v.detail}`);
    if (v.example !== null) {
      lines.push(`        frame (${v.example.encoding}, ${v.example.bytes} bytes, seed ${v.example.seed} index ${v.example.index}; ${v.example.labels.join(' | ')}):`);
      lines.push(`        ${v.example.frame}`);
    }
  }
  lines.push(`  report              ${result.report}/results.json${node.log === null ? '' : `, node log ${node.log}`}`);
  return `${lines.join('\n')}\n`;
}
