/**
 * `pnpm fuzz --frames N [--seed S] [--url ws://…]`: the structure-aware frame
 * fuzzer. Human summary on stdout (stderr with --json, whose last stdout line is
 * the summary object). Exits 1 when the oracle recorded any violation.
 */
import { UsageError } from '../cli/options.ts';
import { parseFuzzOptions } from './run/fuzz-options.ts';
import { formatFuzzResult } from './run/fuzz-result.ts';
import { runFuzz } from './run/fuzz-run.ts';

// Ctrl-C becomes a normal exit so the child guard stops the node this run started.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseFuzzOptions(argv);
  const result = await runFuzz(options, `pnpm fuzz ${argv.join(' ')}`.trim());
  (options.json ? process.stderr : process.stdout).write(formatFuzzResult(result));
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.violations_total > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? process.stdout : process.stderr).write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`fuzz failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
