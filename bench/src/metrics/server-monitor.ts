/**
 * Samples the node's process once a second for the timeline, and exactly at the
 * edges of the measured phase for its CPU seconds. Also reads the CPU of the
 * PostgreSQL and Redis processes and of the bench itself at those edges, because
 * on a shared 2-core machine the question is always "who had the CPU".
 */
import { now } from '../util/time.ts';
import { cpuSecondsOfCommand, sampleProcess, threadCpuSeconds, type ProcessSample } from './process-stats.ts';

export interface CpuSnapshot {
  at: number;
  server: ProcessSample | null;
  serverThreads: Map<number, number>;
  postgresCpuS: number;
  redisCpuS: number;
  benchCpuS: number;
}

export interface CpuUse {
  server_cpu_s: number | null;
  /** The node's main thread (sockets, routing), then its busiest other threads (the shard workers first), in CPU seconds. */
  server_main_thread_cpu_s: number | null;
  server_busiest_threads_cpu_s: number[];
  postgres_cpu_s: number;
  redis_cpu_s: number;
  bench_cpu_s: number;
}

export class ServerMonitor {
  readonly samples: Array<{ at: number; sample: ProcessSample }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: number | null) {}

  start(): void {
    if (this.pid === null) return;
    const pid = this.pid;
    const take = (): void => {
      const sample = sampleProcess(pid);
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
    return {
      at: now(),
      server: this.pid === null ? null : sampleProcess(this.pid),
      serverThreads: this.pid === null ? new Map() : threadCpuSeconds(this.pid),
      postgresCpuS: cpuSecondsOfCommand('postgres'),
      redisCpuS: cpuSecondsOfCommand('redis-server'),
      benchCpuS: (usage.user + usage.system) / 1e6,
    };
  }

  peakRssBytes(from: number, to: number): number | null {
    const inRange = this.samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.sample.rssBytes);
    return inRange.length === 0 ? null : Math.max(...inRange);
  }
}

export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot, pid: number | null): CpuUse {
  const perThread = [...end.serverThreads].map(([tid, cpu]) => [tid, cpu - (start.serverThreads.get(tid) ?? 0)] as const);
  const main = perThread.find(([tid]) => tid === pid);
  const others = perThread.filter(([tid]) => tid !== pid).map(([, cpu]) => Math.round(cpu * 100) / 100).sort((a, b) => b - a);
  return {
    server_main_thread_cpu_s: main === undefined ? null : Math.round(main[1] * 100) / 100,
    server_busiest_threads_cpu_s: others.slice(0, 4),
    server_cpu_s: start.server !== null && end.server !== null ? end.server.cpuSeconds - start.server.cpuSeconds : null,
    // Backends that ended in between drop out of the sum; the node's pool keeps its own, so the figure is close.
    postgres_cpu_s: Math.max(0, end.postgresCpuS - start.postgresCpuS),
    redis_cpu_s: Math.max(0, end.redisCpuS - start.redisCpuS),
    bench_cpu_s: end.benchCpuS - start.benchCpuS,
  };
}
