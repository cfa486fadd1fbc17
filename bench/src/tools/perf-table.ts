/**
 * Prints the docs/performance.md table rows for report folders:
 *   pnpm exec tsx bench/src/tools/perf-table.ts bench/results/<run> [...]
 * so the published figures are copied from results.json, never retyped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from '../report/result.ts';

const fmt = (value: unknown, digits = 1): string => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: digits });
  return String(value);
};

/** Each node's bytes per connection (idle over several nodes): " (node 1: 9,282 B, node 2: …)". */
function perNodeBytes(s: BenchResult['summary']): string {
  const nodes = typeof s['nodes'] === 'number' ? s['nodes'] : 1;
  if (nodes < 2) return '';
  return ` (${Array.from({ length: nodes }, (_, i) => `node ${i + 1}: ${fmt(s[`node_${i + 1}_connections`])} held, ${fmt(s[`node_${i + 1}_bytes_per_connection`])} B`).join('; ')})`;
}

/** ", 2 nodes, every request across" for cluster runs; nothing for one node. */
function nodesLabel(s: BenchResult['summary']): string {
  const nodes = typeof s['nodes'] === 'number' ? s['nodes'] : 1;
  if (nodes < 2) return '';
  return `, ${nodes} nodes${s['cross'] === 1 ? ', every request across' : ''}`;
}

/** The one or two figures that matter most for each scenario. */
function headline(result: BenchResult): string {
  const s = result.summary;
  switch (s.scenario) {
    case 'idle':
      return `${fmt(s['connections'])} connections, ${fmt(s['connections_per_s'])}/s, ${fmt(s['bytes_per_connection'])} B each${perNodeBytes(s)}, ${fmt(s['alive'])} alive`;
    case 'reconnect':
      return `recovery ${fmt(s['recovery_ms'])} ms for ${fmt(s['connections'])} clients, ${fmt(s['unrecovered'])} unrecovered`;
    case 'history':
      return `${fmt(s['pages_per_s'])} pages/s (${fmt(s['messages_read_per_s'])} msgs/s), bad passes ${fmt(s['bad_passes'])}`;
    case 'group':
      return `${fmt(s.acked_per_s)} msgs/s, ${fmt(s.delivered_per_s)} deliveries/s`;
    default:
      return `${fmt(s.acked_per_s)} acked/s`;
  }
}

process.stdout.write('| scenario | command | result | ceiling (PG / transport) | ratio | p50 / p99 / p99.9 ack ms | p50 / p99 deliver ms | server RSS MB / CPU s | lost / dup / errors | load avg |\n');
process.stdout.write('|---|---|---|---|---|---|---|---|---|---|\n');
for (const dir of process.argv.slice(2)) {
  const result = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as BenchResult;
  const s = result.summary;
  const cells = [
    s.scenario + (s.mode === 'open' ? ' (open)' : s.mode === 'closed' ? ' (closed)' : '') + nodesLabel(s),
    `\`${result.command}\``,
    headline(result),
    `${fmt(s.ceiling_per_s, 0)} / ${fmt(s.transport_ceiling_per_s, 0)}`,
    fmt(s.ratio_to_ceiling, 2),
    `${fmt(s.p50_ack_ms)} / ${fmt(s.p99_ack_ms)} / ${fmt(s.p999_ack_ms)}`,
    `${fmt(s.p50_deliver_ms)} / ${fmt(s.p99_deliver_ms)}`,
    `${fmt(s.server_rss_mb, 0)} / ${fmt(s.server_cpu_s)}`,
    `${fmt(s.lost)} / ${fmt(s.duplicated)} / ${fmt(s.errors)}`,
    result.machine.load_average_at_start.map((l) => l.toFixed(1)).join(' '),
  ];
  process.stdout.write(`| ${cells.join(' | ')} |\n`);
}
