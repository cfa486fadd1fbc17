/**
 * CPU per acknowledged message in the measured phase: the node processes summed
 * (one or many, so a cluster's cost compares with one node's), PostgreSQL (every
 * postgres process, as single-node runs always reported it, and only the run's
 * own backends), Redis and the bench. null where there is nothing to divide by
 * or nothing measured.
 */
import type { CpuUse } from '../metrics/cpu-use.ts';

export interface PerAckFigures {
  nodes: number;
  node_cpu_us_per_ack: number | null;
  postgres_cpu_us_per_ack: number | null;
  postgres_db_cpu_us_per_ack: number | null;
  redis_cpu_us_per_ack: number | null;
  bench_cpu_us_per_ack: number | null;
  [field: string]: number | null;
}

export function perAckFigures(cpu: CpuUse, acked: number, nodes: number): PerAckFigures {
  const us = (seconds: number | null): number | null => (seconds === null || acked <= 0 ? null : Math.round((seconds * 1e6) / acked * 10) / 10);
  return {
    nodes,
    node_cpu_us_per_ack: us(cpu.server_cpu_s),
    postgres_cpu_us_per_ack: us(cpu.postgres_cpu_s),
    postgres_db_cpu_us_per_ack: us(cpu.postgres_db_cpu_s),
    redis_cpu_us_per_ack: us(cpu.redis_cpu_s),
    bench_cpu_us_per_ack: us(cpu.bench_cpu_s),
  };
}
