/**
 * idle: C authenticated connections that only stay open. Measures how fast the
 * node accepts them (connections/s, connect-to-hello latency) and what each costs
 * it in memory: (server RSS while holding them - RSS before) / C. At the end every
 * connection is pinged once, to show it is still open and served.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { say } from '../cli/progress.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { sampleProcess } from '../metrics/process-stats.ts';
import { Timeline } from '../metrics/timeline.ts';
import { guardChild } from '../util/child-guard.ts';
import { repoRoot } from '../util/repo-root.ts';
import { now, sleep } from '../util/time.ts';
import type { FromHolder, HolderChecked, HolderConnected, ToHolder } from '../idle/holder-protocol.ts';
import type { Scenario } from './scenario.ts';

/** Connections per holder process: under the 20,000 open files one process may have, with room to spare. */
const PER_HOLDER = 9000;
/** Source addresses to spread connections over (each has its own ephemeral port range). */
const SOURCE_ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const HOLDER_PATH = fileURLToPath(new URL('../idle/holder.ts', import.meta.url));

interface Holder {
  child: ChildProcess;
  connected: number;
  next<K extends FromHolder['kind']>(kind: K): Promise<Extract<FromHolder, { kind: K }>>;
  send(message: ToHolder): void;
}

export const idleScenario: Scenario = {
  name: 'idle',
  loadShape: () => null,
  async run(context) {
    const { options, target, progress } = context;
    const total = options.connections;
    const holderCount = Math.max(1, Math.ceil(total / PER_HOLDER));
    const holders = Array.from({ length: holderCount }, () => startHolder());
    const pid = target.serverPid;
    try {
      await sleep(1000); // let the node settle after the ceilings and start-up
      const baseline = pid === null ? null : sampleProcess(pid);
      const timeline = new Timeline();
      const t0 = now();
      timeline.start(t0);
      context.measureStarted(t0);
      say(`opening ${total} connections from ${holderCount} process(es) over ${SOURCE_ADDRESSES.length} source addresses`);
      holders.forEach((holder, h) => {
        const count = Math.min(PER_HOLDER, total - h * PER_HOLDER);
        holder.send({ kind: 'start', url: target.wsUrl, jwtSecret: target.jwtSecret, count, firstIndex: h * PER_HOLDER, sourceAddresses: SOURCE_ADDRESSES, concurrency: 100 });
      });
      let reported = 0;
      // (connections open, server RSS) while connecting: the slope is what one more connection costs.
      const growth: Array<[number, number]> = [];
      const ticker = setInterval(() => {
        const connected = holders.reduce((sum, h) => sum + h.connected, 0);
        timeline.addAck(now(), connected - reported);
        reported = connected;
        const sample = pid === null ? null : sampleProcess(pid);
        if (sample !== null) growth.push([connected, sample.rssBytes]);
      }, 250);
      const results: HolderConnected[] = await Promise.all(holders.map((h) => h.next('connected')));
      clearInterval(ticker);
      const connectSeconds = (now() - t0) / 1000;
      const connected = results.reduce((sum, r) => sum + r.connected, 0);
      timeline.addAck(now(), connected - reported);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      const connectLatency = new LatencyHistogram();
      for (const r of results) for (const ms of r.connectMs) connectLatency.record(ms);
      say(`${connected} connected in ${connectSeconds.toFixed(1)} s${failed > 0 ? `, ${failed} failed (${results.find((r) => r.firstError !== null)?.firstError ?? ''})` : ''}; holding ${options.durationS} s`);
      progress.start('idle', options.durationS);
      const holdStart = now();
      while (now() - holdStart < options.durationS * 1000) {
        await sleep(250);
        progress.update((now() - holdStart) / 1000, { ackedPerS: 0, deliveredPerS: 0, errors: failed, note: `${connected} open` });
      }
      progress.stop();
      const held = pid === null ? null : sampleProcess(pid);
      const checks: HolderChecked[] = await Promise.all(holders.map((h) => (h.send({ kind: 'check' }), h.next('checked'))));
      context.measureEnded(now());
      const alive = checks.reduce((sum, c) => sum + c.alive, 0);
      const dropped = checks.reduce((sum, c) => sum + c.dropped, 0);
      await Promise.all(holders.map((h) => (h.send({ kind: 'close' }), h.next('closed'))));
      const perConnection = baseline !== null && held !== null && connected > 0 ? (held.rssBytes - baseline.rssBytes) / connected : null;
      if (held !== null) growth.push([connected, held.rssBytes]);
      const marginal = slope(growth.filter(([n]) => n >= connected / 4));
      return {
        durationS: connectSeconds,
        acked: connected,
        ackedInWindow: connected,
        messagesWrittenInWindow: 0,
        deliveredInWindow: 0,
        errors: failed + (connected - alive),
        errorsByCode: { ...(failed > 0 ? { connect_failed: failed } : {}), ...(connected - alive > 0 ? { not_alive: connected - alive } : {}) },
        ackLatency: connectLatency,
        deliverLatency: new LatencyHistogram(),
        timeline,
        lanes: [],
        undelivered: 0,
        unanswered: 0,
        extra: {
          connections: connected,
          connections_per_s: Math.round(connected / connectSeconds),
          bytes_per_connection: perConnection === null ? null : Math.round(perConnection),
          marginal_bytes_per_connection: marginal === null ? null : Math.round(marginal),
          server_rss_mb_before: baseline === null ? null : Math.round((baseline.rssBytes / 2 ** 20) * 10) / 10,
          server_rss_mb_held: held === null ? null : Math.round((held.rssBytes / 2 ** 20) * 10) / 10,
          hold_s: options.durationS,
          alive,
          dropped,
        },
        notes: [
          'idle: bytes_per_connection is (RSS holding them - RSS before) / connections, one-time growth (heap, JIT code) included; marginal_bytes_per_connection is the slope of RSS over connections while they were opened (the last three quarters)',
          'idle: "acked" counts connections that got their hello, acked_per_s is the connection rate, ack latency is connect-to-hello, duration_s is the connect phase',
        ],
      };
    } finally {
      for (const holder of holders) holder.child.kill();
    }
  },
};

function startHolder(): Holder {
  const child = guardChild(fork(HOLDER_PATH, [], { cwd: repoRoot, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const waiting = new Map<string, (message: FromHolder) => void>();
  const holder: Holder = {
    child,
    connected: 0,
    next: (kind) =>
      new Promise((resolve, reject) => {
        waiting.set(kind, resolve as (message: FromHolder) => void);
        child.once('exit', (code) => reject(new Error(`connection holder exited (${code ?? 'signal'})`)));
      }),
    send: (message) => child.send(message),
  };
  child.on('message', (message: FromHolder) => {
    if (message.kind === 'progress') holder.connected = message.connected;
    if (message.kind === 'connected') holder.connected = message.connected;
    const resolve = waiting.get(message.kind);
    waiting.delete(message.kind);
    resolve?.(message);
  });
  return holder;
}

/** Least-squares slope of y over x; null with fewer than two distinct x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}
