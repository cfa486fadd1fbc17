/**
 * A self-contained HTML page for one run: the figures, the ceilings, the
 * verification, the machine, and the charts embedded as PNG data URIs (the page
 * can be mailed or attached to an issue on its own).
 */
import type { Chart } from './charts.ts';
import type { BenchResult } from './result.ts';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 3 : 1 });
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function table(rows: Array<[string, unknown]>, caption?: string): string {
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(formatValue(v))}</td></tr>`).join('\n');
  return `<table>${caption === undefined ? '' : `<caption>${escapeHtml(caption)}</caption>`}\n${body}\n</table>`;
}

function grid(headers: string[], rows: unknown[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(formatValue(v))}</td>`).join('')}</tr>`).join('\n');
  return `<table class="grid">${head}\n${body}</table>`;
}

/** Each node's own counters of the measured phase (node-traffic.ts), one row per node. */
function trafficGrid(result: BenchResult): string {
  const rows = result.node_traffic.filter((t) => t !== null);
  if (rows.length === 0) return '';
  const headers = Object.keys(rows[0] ?? {});
  return `<p><b>Each node's /metrics over the measured phase</b> (forwarding, bus, unavailable answers, GC seconds, event-loop delay)</p>${grid(headers, rows.map((t) => Object.values(t)))}`;
}

export function renderHtml(result: BenchResult, charts: readonly Chart[]): string {
  const s = result.summary;
  const verdict =
    s.lost === null ? 'not verified (no database URL)' : s.lost === 0 && s.duplicated === 0 ? 'every acknowledged message stored exactly once' : 'LOSS OR DUPLICATION';
  const headline: Array<[string, unknown]> = Object.entries(s).filter(([k]) => k !== 'report');
  const pg = result.ceilings.pg;
  const transport = result.ceilings.transport;
  const v = result.verification;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Whispr bench: ${escapeHtml(s.scenario)} ${escapeHtml(result.started_at)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
code { background: #f3f3f3; padding: 0.1rem 0.3rem; border-radius: 3px; }
.cols { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.25rem 0.8rem 0.25rem 0; text-align: left; }
td { font-variant-numeric: tabular-nums; } .grid th { background: #fafafa; }
.verdict { font-weight: 600; color: ${s.lost === 0 && s.duplicated === 0 ? '#2a7d2a' : '#b22'}; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5rem 0 1.5rem; }
</style></head><body>
<h1>Whispr bench — ${escapeHtml(s.scenario)}</h1>
<p class="sub">${escapeHtml(result.started_at)} · <code>${escapeHtml(result.command)}</code></p>
<p class="verdict">Verification: ${escapeHtml(verdict)}</p>
<div class="cols">
${table(headline, 'Summary')}
<div>
${table(
  [
    ['PostgreSQL write ceiling (messages/s)', pg?.per_s ?? null],
    ['best batch', pg?.best_batch ?? null],
    ['best shape', pg?.best_shape ?? null],
    ['writers', pg?.writers ?? null],
    ['conversations × members', pg === null ? null : `${pg.conversations} × ${pg.members_per_conversation}`],
    ['transport ceiling (echoes/s)', transport?.per_s ?? null],
    ['ratio acked/s ÷ PostgreSQL ceiling', s.ratio_to_ceiling],
  ],
  'Ceilings (same run)',
)}
${pg === null ? '' : grid(['shape', 'batch', 'messages/s', 'rows/s'], pg.trials.map((t) => [t.shape, t.batch, t.messages_per_s, t.rows_per_s]))}
${v === null ? '' : table(Object.entries(v), 'Verification against PostgreSQL')}
${table(Object.entries(result.rows_written ?? {}), 'Rows inserted (pg_stat_user_tables)')}
${table(Object.entries(result.cpu).filter(([k]) => k !== 'nodes'), 'CPU seconds during the measured phase')}
${result.cpu.nodes.length < 2 ? '' : `<p><b>CPU seconds per node</b></p>${grid(['node', 'pid', 'process', 'main thread', 'busiest other threads', 'RSS MB'], result.cpu.nodes.map((n) => [n.node_id, n.pid, n.cpu_s, n.main_thread_cpu_s, n.busiest_threads_cpu_s.join(' / '), n.rss_mb]))}`}
${trafficGrid(result)}
${result.writers === null ? '' : table(Object.entries(result.writers), 'Shard writers (node /metrics)')}
${result.pg_activity.length === 0 ? '' : `<p><b>PostgreSQL sessions of the node, when not idle</b> (pg_stat_activity every 20 ms)</p>${grid(['state | wait | statement', 'samples', 'share'], result.pg_activity.map((a) => [a.what, a.samples, a.share]))}`}
${Object.keys(result.errors_by_code).length === 0 ? '' : table(Object.entries(result.errors_by_code), 'Errors by code')}
${table(
  [
    ...Object.entries(result.machine),
    ['PostgreSQL', result.postgres_version],
  ],
  'Machine',
)}
</div>
</div>
${result.notes.length === 0 ? '' : `<h2>Notes</h2><ul>${result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`}
<h2>Charts</h2>
${charts.map((c) => `<h3>${escapeHtml(c.title)}</h3><img alt="${escapeHtml(c.title)}" src="data:image/png;base64,${c.png.toString('base64')}">`).join('\n')}
<h2>Latency percentiles (ms)</h2>
${grid(
  ['series', ...Object.keys(result.latency.ack.percentiles).map((p) => (p === '100' ? 'max' : `p${p}`)), 'mean', 'count'],
  [
    ['ack', ...Object.values(result.latency.ack.percentiles), result.latency.ack.mean_ms, result.latency.ack.count],
    ['deliver', ...Object.values(result.latency.deliver.percentiles), result.latency.deliver.mean_ms, result.latency.deliver.count],
  ],
)}
</body></html>
`;
}
