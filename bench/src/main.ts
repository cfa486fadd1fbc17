/**
 * `pnpm bench <scenario> [options]`: runs one scenario and writes its report.
 * Human-readable summary on stderr; with --json the last stdout line is the
 * summary object. Exits 1 when verification found a lost or duplicated message.
 */
import { parseOptions, UsageError } from './cli/options.ts';
import { printSummary } from './cli/print-summary.ts';
import { runBench } from './run/run-bench.ts';

// Turn Ctrl-C into a normal exit so the child guard stops the node and helpers this run started.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const { result } = await runBench(options, `pnpm bench ${argv.join(' ')}`);
  printSummary(result, options.json ? process.stderr : process.stdout);
  if (options.json) process.stdout.write(`${JSON.stringify(result.summary)}\n`);
  const { lost, duplicated } = result.summary;
  return (lost ?? 0) > 0 || (duplicated ?? 0) > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? process.stdout : process.stderr).write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
