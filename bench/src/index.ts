/** The bench as a library: run a scenario programmatically (the tests do) and read its result. */
export { parseOptions, SCENARIOS, type BenchOptions, type ScenarioName } from './cli/options.ts';
export { runBench, type RunOutput } from './run/run-bench.ts';
export type { BenchResult, Summary } from './report/result.ts';
export { REPORT_FILES } from './report/write-report.ts';
