/** The end-of-run summary for people: the headline figures, aligned, then where the report is. */
import { formatValue } from '../report/html-report.ts';
import type { BenchResult } from '../report/result.ts';

/**
 * Where the CPU went, per node: the process, its main thread and its busiest
 * other threads, and what its /metrics said about the phase; then PostgreSQL.
 */
export function nodeLines(result: BenchResult): string[] {
  const lines = result.cpu.nodes.map((n, i) => {
    const traffic = result.node_traffic[i];
    const cpu = `cpu ${formatValue(n.cpu_s)} s (main thread ${formatValue(n.main_thread_cpu_s)}, other threads ${n.busiest_threads_cpu_s.join(' / ') || '—'})`;
    const counters = traffic == null ? '' : `; forwarded ${traffic.requests_forwarded} out / ${traffic.requests_forwarded_in} in, events forwarded ${traffic.events_forwarded}, unavailable ${traffic.unavailable}, gc ${traffic.gc_s} s, event-loop delay p99 ${formatValue(traffic.eventloop_lag_p99_ms)} ms, max ${formatValue(traffic.eventloop_lag_max_ms)} ms`;
    return `node ${n.node_id ?? i + 1}: ${cpu}${counters}`;
  });
  const c = result.cpu;
  lines.push(`postgres: cpu ${formatValue(c.postgres_cpu_s)} s (every postgres process), ${formatValue(c.postgres_db_cpu_s)} s (the run's database's backends); redis ${formatValue(c.redis_cpu_s)} s; bench ${formatValue(c.bench_cpu_s)} s`);
  return lines;
}

export function printSummary(result: BenchResult, out: NodeJS.WritableStream): void {
  const entries = Object.entries(result.summary).filter(([key]) => key !== 'report');
  const width = Math.max(...entries.map(([key]) => key.length));
  const lines = entries.map(([key, value]) => `  ${key.padEnd(width)}  ${formatValue(value)}`);
  out.write(`\n${result.summary.scenario} — ${result.command}\n${lines.join('\n')}\n`);
  out.write(nodeLines(result).map((line) => `  ${line}\n`).join(''));
  out.write(`  report ${result.summary.report}/report.html\n`);
  for (const note of result.notes) out.write(`  note: ${note}\n`);
}
