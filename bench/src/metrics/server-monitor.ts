/**
 * Samples the node processes once a second for the timeline, and exactly at the
 * edges of the measured phase for their CPU seconds (each node's, and each of its
 * threads'). Also reads the CPU of the PostgreSQL and Redis processes and of the
 * bench itself at those edges, because on a shared 2-core machine the question is
 * always "who had the CPU".
 */
import { now } from '../util/time.ts';
import { cpuByPidOfCommand, cpuSecondsOfCommand, sampleProcess, threadCpuSeconds, type ProcessSample } from './process-stats.ts';

export interface NodeSnapshot {
  pid: number | null;
  sample: ProcessSample | null;
  /** CPU seconds by thread id (the main thread's id is the pid). */
  threads: Map<number, number>;
}

export interface CpuSnapshot {
  at: number;
  /** Each node process, in the target's order. */
  nodes: NodeSnapshot[];
  /** The nodes together (RSS and CPU summed); null when any of them could not be read. */
  server: ProcessSample | null;
  /** Every PostgreSQL process's CPU seconds, by pid: the run's own backends are picked out afterwards. */
  postgresByPid: Map<number, number>;
  postgresCpuS: number;
  redisCpuS: number;
  benchCpuS: number;
}

export class ServerMonitor {
  /** Once a second: the nodes' RSS and CPU, summed. */
  readonly samples: Array<{ at: number; sample: ProcessSample }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: ReadonlyArray<number | null>) {}

  start(): void {
    if (this.pids.length === 0 || this.pids.includes(null)) return;
    const take = (): void => {
      const sample = this.sampleAll();
      if (sample !== null) this.samples.push({ at: now(), sample });
    };
    take();
    this.timer = setInterval(take, 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  snapshot(): CpuSnapshot {
    const usage = process.cpuUsage();
    const postgresByPid = cpuByPidOfCommand('postgres');
    const nodes = this.pids.map((pid) => ({ pid, sample: pid === null ? null : sampleProcess(pid), threads: pid === null ? new Map<number, number>() : threadCpuSeconds(pid) }));
    return {
      at: now(),
      nodes,
      server: sumSamples(nodes.map((n) => n.sample)),
      postgresByPid,
      postgresCpuS: [...postgresByPid.values()].reduce((a, b) => a + b, 0),
      redisCpuS: cpuSecondsOfCommand('redis-server'),
      benchCpuS: (usage.user + usage.system) / 1e6,
    };
  }

  peakRssBytes(from: number, to: number): number | null {
    const inRange = this.samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.sample.rssBytes);
    return inRange.length === 0 ? null : Math.max(...inRange);
  }

  private sampleAll(): ProcessSample | null {
    return sumSamples(this.pids.map((pid) => (pid === null ? null : sampleProcess(pid))));
  }
}

function sumSamples(samples: ReadonlyArray<ProcessSample | null>): ProcessSample | null {
  if (samples.length === 0 || samples.includes(null)) return null;
  return (samples as ProcessSample[]).reduce((sum, s) => ({ rssBytes: sum.rssBytes + s.rssBytes, cpuSeconds: sum.cpuSeconds + s.cpuSeconds }), { rssBytes: 0, cpuSeconds: 0 });
}
