/** The machine a run happened on, recorded with every result (figures mean nothing without it). */
import os from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  kernel: string;
  load_average_at_start: number[];
  hostname: string;
}

export function machineInfo(): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
    hostname: os.hostname(),
  };
}
