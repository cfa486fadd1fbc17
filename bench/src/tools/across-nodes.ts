/**
 * The direct scenario on one node and on N nodes with every request crossing
 * nodes, in one process, back to back (docs/performance.md "Across nodes"):
 *
 *   pnpm exec tsx bench/src/tools/across-nodes.ts --duration 15 --workers 0 [--nodes 2] [--rounds R]
 *
 * Round r runs `pnpm bench direct <options> --nodes 1`, then `... --nodes N
 * --cross`, each a complete bench run with its own nodes, database, report
 * folder and verification. Prints the table (acked/s, ack and delivery
 * latency, node CPU µs per acknowledged message summed over the nodes,
 * PostgreSQL's, ...) and each round's cross-node / one-node throughput ratio;
 * writes compare.json beside the runs' folders. Exits 1 when any run lost or
 * duplicated a message.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseOptions, UsageError } from '../cli/options.ts';
import { nodeLines } from '../cli/print-summary.ts';
import { say } from '../cli/progress.ts';
import { runBench } from '../run/run-bench.ts';
import { benchRoot } from '../util/repo-root.ts';
import { parseAcrossArgs } from './across-nodes-args.ts';
import { acrossTable, median, roundRatios, type AcrossRun } from './across-nodes-table.ts';

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

async function main(argv: readonly string[]): Promise<number> {
  const args = parseAcrossArgs(argv);
  const oneLabel = 'direct, 1 node';
  const crossLabel = `direct --cross, ${args.nodes} nodes`;
  const configurations = [
    { label: oneLabel, slug: 'one-node', extra: ['--nodes', '1'] },
    { label: crossLabel, slug: `cross-${args.nodes}-nodes`, extra: ['--nodes', String(args.nodes), '--cross'] },
  ];
  // Both parsed before anything runs: a bad option fails now, not after the first run.
  for (const c of configurations) parseOptions(['direct', ...args.benchArgs, ...c.extra]);
  const dir = args.out ?? join(benchRoot, 'results', `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-across-nodes`);
  await mkdir(dir, { recursive: true });
  const command = `pnpm exec tsx bench/src/tools/across-nodes.ts ${argv.join(' ')}`.trim();
  const runs: AcrossRun[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const c of configurations) {
      const out = join(dir, args.rounds === 1 ? c.slug : `round-${round}-${c.slug}`);
      const benchArgv = ['direct', ...args.benchArgs, ...c.extra, '--out', out];
      say(`round ${round}/${args.rounds}: ${c.label} (pnpm bench ${benchArgv.join(' ')})`);
      const { result } = await runBench(parseOptions(benchArgv), `pnpm bench ${benchArgv.join(' ')}`);
      runs.push({ round, label: c.label, summary: result.summary, load: result.machine.load_average_at_start[0] ?? null });
      for (const line of nodeLines(result)) say(`  ${line}`);
    }
  }
  const ratios = roundRatios(runs, oneLabel, crossLabel);
  const ratioMedian = median(ratios.map((r) => r.ratio));
  const report = [
    `${command}`,
    '',
    acrossTable(runs),
    '',
    `cross-node / one-node acked/s: ${ratios.map((r) => `round ${r.round} ${r.ratio}`).join(', ')}${ratios.length > 1 ? `; median ${ratioMedian ?? '—'}` : ''} (target: at least 0.5)`,
  ].join('\n');
  const out = args.json ? process.stderr : process.stdout;
  out.write(`\n${report}\n`);
  await writeFile(join(dir, 'compare.json'), `${JSON.stringify({ command, runs, ratios, ratio_median: ratioMedian }, null, 2)}\n`);
  out.write(`compare.json and each run's report in ${dir}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify({ ratios, ratio_median: ratioMedian, runs: runs.map((r) => ({ round: r.round, label: r.label, ...r.summary })) })}\n`);
  return runs.some((r) => (r.summary.lost ?? 0) > 0 || (r.summary.duplicated ?? 0) > 0) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? process.stdout : process.stderr).write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`across-nodes failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
