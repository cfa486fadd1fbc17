/**
 * One bench run from start to report: start (or reach) the node, measure the
 * ceilings with the scenario's load shape while the node is idle, run the
 * scenario, read PostgreSQL's own counters, verify every acknowledged message,
 * stop what was started, write the report folder.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { BenchOptions } from '../cli/options.ts';
import { Progress, say } from '../cli/progress.ts';
import { ceilingCleanup, measurePgCeiling, type PgCeilingResult } from '../ceilings/pg-ceiling.ts';
import { measureTransportCeiling, type TransportCeilingResult } from '../ceilings/transport-ceiling.ts';
import { machineInfo } from '../metrics/machine.ts';
import { cpuBetween } from '../metrics/cpu-use.ts';
import { readNodeMetrics, sumMetrics, writerUse, type MetricSample } from '../metrics/node-metrics.ts';
import { nodeTraffic } from '../metrics/node-traffic.ts';
import { runBackendPids } from '../metrics/pg-backends.ts';
import { PgActivitySampler, type ActivityShare } from '../metrics/pg-activity.ts';
import { readInsertCounts, settledInsertCounts, type TableCounts } from '../metrics/pg-table-stats.ts';
import { ServerMonitor, type CpuSnapshot } from '../metrics/server-monitor.ts';
import type { BenchResult } from '../report/result.ts';
import { perAckFigures } from '../report/per-ack.ts';
import { round, summarize } from '../report/summarize.ts';
import { writeReport } from '../report/write-report.ts';
import { connectRetries } from '../scenarios/connect-users.ts';
import { scenarios } from '../scenarios/index.ts';
import type { ScenarioOutcome } from '../scenarios/scenario.ts';
import type { Target } from '../target/target.ts';
import { benchRoot } from '../util/repo-root.ts';
import { verifyMessages, type Verification } from '../verify/verify-messages.ts';
import { acquireTarget } from './acquire-target.ts';

export interface RunOutput {
  result: BenchResult;
  dir: string;
}

const MB = 1024 * 1024;

/**
 * `given`: nodes the caller started and stops (the tests share one cluster
 * between runs); by default the run starts its own (or reaches --url).
 */
export async function runBench(options: BenchOptions, command: string, given?: Target): Promise<RunOutput> {
  if (given !== undefined && given.nodes.length !== options.nodes) throw new Error(`runBench: options say ${options.nodes} node(s), the given target has ${given.nodes.length}`);
  const scenario = scenarios[options.scenario];
  if (scenario === undefined) throw new Error(`scenario ${options.scenario} is not implemented yet`);
  const startedAt = new Date();
  connectRetries.count = 0;
  const dir = options.out ?? join(benchRoot, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${options.scenario}`);
  await mkdir(dir, { recursive: true });
  const machine = machineInfo();
  const notes: string[] = [];
  if (machine.load_average_at_start[0] !== undefined && machine.load_average_at_start[0] > machine.nproc * 0.5) {
    notes.push(`the machine was busy when the run started (load average ${machine.load_average_at_start.join(', ')}): figures may be low`);
  }
  const target: Target = given === undefined ? await acquireTarget(options, dir) : { ...given, stop: async () => undefined };
  const monitor = new ServerMonitor(target.nodes.map((n) => n.serverPid));
  try {
    monitor.start();
    const shape = scenario.loadShape(options);
    let pgCeiling: PgCeilingResult | null = null;
    let transportCeiling: TransportCeilingResult | null = null;
    if (shape !== null && options.ceilings) {
      if (target.databaseUrl === null) notes.push('no PostgreSQL ceiling: the node\'s database is unknown (pass --database-url)');
      else {
        const writers = target.writers;
        say(`measuring the PostgreSQL write ceiling (${writers} writers, ${shape.conversations} conversations of ${shape.membersPerConversation})`);
        pgCeiling = await measurePgCeiling({
          schemaFromUrl: target.databaseUrl,
          writers,
          conversations: shape.conversations,
          membersPerConversation: shape.membersPerConversation,
          contentBytes: options.contentBytes,
          batchSizes: [50, 250, 1000],
          secondsPerBatch: options.ceilingSeconds,
        });
      }
      say(`measuring the transport ceiling (${shape.connections} connections, window ${shape.window})`);
      transportCeiling = await measureTransportCeiling({
        connections: shape.connections,
        window: shape.window,
        contentBytes: options.contentBytes,
        seconds: options.ceilingSeconds,
      });
    }
    let startSnapshot: CpuSnapshot | null = null;
    let endSnapshot: CpuSnapshot | null = null;
    let countsBefore: Promise<TableCounts> | null = null;
    const readAllMetrics = (): Promise<Array<MetricSample | null>> => Promise.all(target.nodes.map((n) => readNodeMetrics(n.httpUrl)));
    let metricsBefore: Promise<Array<MetricSample | null>> = Promise.resolve([]);
    let metricsAfter: Promise<Array<MetricSample | null>> = Promise.resolve([]);
    const sampler = target.databaseUrl === null ? null : new PgActivitySampler(target.databaseUrl);
    let activity: Promise<ActivityShare[]> = Promise.resolve([]);
    const outcome: ScenarioOutcome = await scenario.run({
      options,
      target,
      progress: new Progress(options.progress && !options.json),
      measureStarted: () => {
        startSnapshot = monitor.snapshot();
        metricsBefore = readAllMetrics();
        sampler?.start();
        if (target.databaseUrl !== null) countsBefore = readInsertCounts(target.databaseUrl);
      },
      measureEnded: () => {
        endSnapshot = monitor.snapshot();
        metricsAfter = readAllMetrics();
        if (sampler !== null) activity = sampler.stop();
      },
    });
    // Read while the nodes still hold their sessions (they are stopped only after the report's figures).
    const backendPids = target.databaseUrl === null ? null : await runBackendPids(target.databaseUrl);
    const start = startSnapshot ?? monitor.snapshot();
    const end = endSnapshot ?? monitor.snapshot();
    monitor.samples.forEach((s, i) => {
      const prev = monitor.samples[i - 1];
      if (prev !== undefined) outcome.timeline.addServerSample(s.at, s.sample.rssBytes / MB, (s.sample.cpuSeconds - prev.sample.cpuSeconds) / ((s.at - prev.at) / 1000));
    });
    let verification: Verification | null = null;
    let rowsWritten: TableCounts | null = null;
    if (target.databaseUrl !== null) {
      say('verifying every acknowledged message against PostgreSQL');
      verification = await verifyMessages(target.databaseUrl, outcome.lanes, options.contentBytes);
      if (countsBefore !== null) rowsWritten = await settledInsertCounts(target.databaseUrl, await countsBefore, outcome.messagesWrittenInWindow, options.statsWaitS);
    } else notes.push('not verified: the node\'s database is unknown (pass --database-url)');
    if (connectRetries.count > 0) {
      notes.push(`${connectRetries.count} WebSocket handshake(s) failed and were retried (last: ${connectRetries.lastError}): a service fault`);
    }
    const postgresVersion = target.databaseUrl === null ? null : await postgresVersionOf(target.databaseUrl);
    const cpu = cpuBetween(start, end, target.nodes.map((n) => n.nodeId), backendPids);
    const [before, after] = [await metricsBefore, await metricsAfter];
    const writers = writerUse(sumMetrics(before), sumMetrics(after), (end.at - start.at) / 1000);
    const traffic = target.nodes.map((n, i) => nodeTraffic(n.nodeId, before[i] ?? null, after[i] ?? null));
    const perAck = perAckFigures(cpu, outcome.messagesWrittenInWindow, target.nodes.length);
    const summary = summarize(options, outcome, pgCeiling, transportCeiling, end, cpu.server_cpu_s, verification, dir);
    const result: BenchResult = {
      summary: { ...summary, ...perAck, avg_batch: writers?.avg_batch ?? null, writer_busy: writers?.writer_busy ?? null, connect_retries: connectRetries.count },
      command,
      started_at: startedAt.toISOString(),
      options: { ...options, jwtSecret: options.jwtSecret === null ? null : '(set)' },
      machine,
      postgres_version: postgresVersion,
      ceilings: { pg: pgCeiling, transport: transportCeiling },
      latency: { ack: outcome.ackLatency.summary(), deliver: outcome.deliverLatency.summary() },
      timeline: outcome.timeline.points(Math.ceil(outcome.durationS)),
      cpu,
      server_rss_mb_start: start.server === null ? null : round(start.server.rssBytes / MB, 1),
      server_rss_mb_peak: peakMb(monitor.peakRssBytes(start.at, end.at)),
      rows_written: rowsWritten,
      writers,
      node_traffic: traffic,
      pg_activity: await activity,
      verification,
      errors_by_code: outcome.errorsByCode,
      notes: [...notes, ...outcome.notes],
    };
    monitor.stop();
    await target.stop();
    say(`writing the report to ${dir}`);
    await writeReport(dir, result);
    return { result, dir };
  } finally {
    monitor.stop();
    await target.stop().catch(() => undefined);
    await ceilingCleanup();
  }
}

const peakMb = (bytes: number | null): number | null => (bytes === null ? null : round(bytes / MB, 1));

async function postgresVersionOf(databaseUrl: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}
