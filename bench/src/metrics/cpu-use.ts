/**
 * CPU seconds between two snapshots of the measured phase's edges: the nodes
 * together and each node apart (its main thread, its busiest other threads),
 * PostgreSQL (every process, as the bench has always counted it, and only the
 * backends connected to the run's database), Redis and the bench.
 */
import type { CpuSnapshot, NodeSnapshot } from './server-monitor.ts';

export interface NodeCpu {
  node_id: string | null;
  pid: number | null;
  cpu_s: number | null;
  /** The main thread: sockets, routing, and with --workers 0 the shard too. */
  main_thread_cpu_s: number | null;
  /** The busiest other threads (shard workers first when there are any; V8 and libuv helpers), in CPU seconds. */
  busiest_threads_cpu_s: number[];
  rss_mb: number | null;
}

export interface CpuUse {
  /** The node processes together. */
  server_cpu_s: number | null;
  /** The nodes' main threads together, then the busiest other threads of any node. */
  server_main_thread_cpu_s: number | null;
  server_busiest_threads_cpu_s: number[];
  /** Each node process. */
  nodes: NodeCpu[];
  /** Every postgres process on the machine (other users' sessions too): the figure single-node runs always reported. */
  postgres_cpu_s: number;
  /** Only the backends connected to the run's database (no background writers, no other users); null when unknown. */
  postgres_db_cpu_s: number | null;
  redis_cpu_s: number;
  bench_cpu_s: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
const MB = 1024 * 1024;

/** `runBackendPids`: the backends of the run's database, read while they were still connected. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot, nodeIds: ReadonlyArray<string | null>, runBackendPids: readonly number[] | null): CpuUse {
  const nodes = end.nodes.map((e, i) => nodeCpu(start.nodes[i], e, nodeIds[i] ?? null));
  const mains = nodes.map((n) => n.main_thread_cpu_s);
  return {
    server_cpu_s: start.server !== null && end.server !== null ? end.server.cpuSeconds - start.server.cpuSeconds : null,
    server_main_thread_cpu_s: mains.includes(null) || mains.length === 0 ? null : round2((mains as number[]).reduce((a, b) => a + b, 0)),
    server_busiest_threads_cpu_s: nodes.flatMap((n) => n.busiest_threads_cpu_s).sort((a, b) => b - a).slice(0, 4),
    nodes,
    // Backends that ended in between drop out of the sum; the node's pool keeps its own, so the figure is close.
    postgres_cpu_s: Math.max(0, end.postgresCpuS - start.postgresCpuS),
    postgres_db_cpu_s: runBackendPids === null ? null : round2(runBackendPids.reduce((sum, pid) => sum + Math.max(0, (end.postgresByPid.get(pid) ?? 0) - (start.postgresByPid.get(pid) ?? 0)), 0)),
    redis_cpu_s: Math.max(0, end.redisCpuS - start.redisCpuS),
    bench_cpu_s: end.benchCpuS - start.benchCpuS,
  };
}

function nodeCpu(start: NodeSnapshot | undefined, end: NodeSnapshot, nodeId: string | null): NodeCpu {
  const perThread = [...end.threads].map(([tid, cpu]) => [tid, cpu - (start?.threads.get(tid) ?? 0)] as const);
  const main = perThread.find(([tid]) => tid === end.pid);
  const others = perThread.filter(([tid]) => tid !== end.pid).map(([, cpu]) => round2(cpu)).sort((a, b) => b - a);
  return {
    node_id: nodeId,
    pid: end.pid,
    cpu_s: start?.sample != null && end.sample !== null ? round2(end.sample.cpuSeconds - start.sample.cpuSeconds) : null,
    main_thread_cpu_s: main === undefined ? null : round2(main[1]),
    busiest_threads_cpu_s: others.slice(0, 4),
    rss_mb: end.sample === null ? null : Math.round((end.sample.rssBytes / MB) * 10) / 10,
  };
}
