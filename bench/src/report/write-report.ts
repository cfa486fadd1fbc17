/** Writes a run's folder: results.json, the PNG charts and report.html. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderCharts } from './charts.ts';
import { renderHtml } from './html-report.ts';
import type { BenchResult } from './result.ts';

export const REPORT_FILES = ['results.json', 'report.html', 'throughput.png', 'latency-percentiles.png', 'latency-cdf.png'] as const;

export async function writeReport(dir: string, result: BenchResult): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  const charts = await renderCharts(result);
  for (const chart of charts) await writeFile(join(dir, chart.file), chart.png);
  await writeFile(join(dir, 'report.html'), renderHtml(result, charts));
}
