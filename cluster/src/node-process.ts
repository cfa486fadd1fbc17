/**
 * One Whispr node as a child process (`node --import tsx packages/node/src/main.ts`,
 * as `npm start` runs it, in one process so its pid is the process that serves):
 * what the cluster launcher (launch.ts) starts N of, and what the multi-process
 * tests start, kill -9, SIGSTOP and SIGCONT. The node reads its whole
 * configuration from the environment it is given (PROTOCOL.md §1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the node's entry and the tsx loader are found from there. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE_MAIN = 'packages/node/src/main.ts';

export interface NodeProcessOptions {
  nodeId: string;
  /** The address the node binds (HOST) and the port (PORT), also put into `env`. */
  host: string;
  port: number;
  /** The rest of the node's environment (DATABASE_URL, REDIS_URL, WHISPR_*...). */
  env: NodeJS.ProcessEnv;
  /** Every line the node writes, as it writes it. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Own process group: a Ctrl-C at the terminal then reaches only the launcher,
   * which stops the nodes in its own order (nodes first, the services they use last).
   */
  detached?: boolean;
}

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The URL a client dials for a bind address: a wildcard bind is reached on loopback. */
export function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class NodeProcess {
  readonly nodeId: string;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<NodeExit>;
  private readonly child: ChildProcess;
  private exit: NodeExit | null = null;

  constructor(o: NodeProcessOptions) {
    this.nodeId = o.nodeId;
    this.port = o.port;
    const host = dialHost(o.host);
    this.httpUrl = `http://${host}:${o.port}`;
    this.wsUrl = `ws://${host}:${o.port}/ws`;
    this.child = spawn(process.execPath, ['--import', 'tsx', NODE_MAIN], {
      cwd: REPO_ROOT,
      env: { ...o.env, HOST: o.host, PORT: String(o.port), WHISPR_NODE_ID: o.nodeId },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: o.detached ?? false,
    });
    running.add(this.child);
    this.exited = new Promise((done) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.exit = { code, signal };
        done(this.exit);
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => o.onLine?.(line, stream));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Null while the process runs. */
  get exitStatus(): NodeExit | null {
    return this.exit;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT...) if the process still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /**
   * Resolves once GET /readyz answers 200 (PostgreSQL and Redis answer, the node
   * owns its slots in the ring); throws if the process exits first or the time runs out.
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`${this.nodeId} exited (${describeExit(this.exit)}) before it was ready`);
      if (await this.ready()) return;
      await sleep(150);
    }
    throw new Error(`${this.nodeId} was not ready within ${Math.round(timeoutMs / 1000)} s`);
  }

  /** Whether /readyz answers 200 now. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.httpUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      // Not listening yet, or stopped: not ready.
      return false;
    }
  }

  /** How many nodes this node sees in its ring (its /metrics), or null when it does not answer. */
  async nodesSeen(): Promise<number | null> {
    try {
      const res = await fetch(`${this.httpUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
      const found = /^whispr_cluster_nodes (\d+)$/m.exec(await res.text());
      return found ? Number(found[1]) : null;
    } catch {
      return null;
    }
  }

  /**
   * A planned stop: SIGTERM (the node leaves the ring, answers what it was handed,
   * closes its sockets with 1001), then SIGKILL if it has not exited in `timeoutMs`.
   * A stopped (SIGSTOP) process is continued first, or it could never handle SIGTERM.
   */
  async stop(timeoutMs: number): Promise<'exited' | 'killed'> {
    if (!this.running) return 'exited';
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => 'timeout' as const);
    const outcome = await Promise.race([this.exited, timer]);
    if (outcome !== 'timeout') return 'exited';
    this.child.kill('SIGKILL');
    await this.exited;
    return 'killed';
  }
}

export function describeExit(exit: NodeExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`;
}

/**
 * Children still running when this process exits (a failed test, an uncaught
 * error in the launcher) are killed, so no node is left eating CPU or holding a
 * port. A SIGKILL of this process skips it: the launcher prints the pids.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});
