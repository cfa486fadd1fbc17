/**
 * Resource use of a process from the OS (/proc), never from the process itself:
 * resident memory (VmRSS, which covers every worker thread of a node) and CPU time
 * (utime + stime of all its threads).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux we run on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_S = 100;

export interface ProcessSample {
  rssBytes: number;
  cpuSeconds: number;
}

export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(rssKb) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return { rssBytes: rssKb * 1024, cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_S };
  } catch {
    return null;
  }
}

/**
 * CPU seconds of each thread of a process, by thread id. Node names every thread
 * "node", but the main thread's id is the pid, and the busiest others are the
 * shard workers (the rest: V8 helpers, the loader thread).
 */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** CPU seconds of every process whose command is `name` (the PostgreSQL backends, say). */
export function cpuSecondsOfCommand(name: string): number {
  let total = 0;
  for (const cpu of cpuByPidOfCommand(name).values()) total += cpu;
  return total;
}

/** CPU seconds of each process whose command is `name`, by pid (to pick some of them out later). */
export function cpuByPidOfCommand(name: string): Map<number, number> {
  const byPid = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return byPid;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return byPid;
}
