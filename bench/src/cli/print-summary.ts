/** The end-of-run summary for people: the headline figures, aligned, then where the report is. */
import { formatValue } from '../report/html-report.ts';
import type { BenchResult } from '../report/result.ts';

export function printSummary(result: BenchResult, out: NodeJS.WritableStream): void {
  const entries = Object.entries(result.summary).filter(([key]) => key !== 'report');
  const width = Math.max(...entries.map(([key]) => key.length));
  const lines = entries.map(([key, value]) => `  ${key.padEnd(width)}  ${formatValue(value)}`);
  out.write(`\n${result.summary.scenario} — ${result.command}\n${lines.join('\n')}\n  report ${result.summary.report}/report.html\n`);
  for (const note of result.notes) out.write(`  note: ${note}\n`);
}
