/**
 * idle: C authenticated connections that only stay open, spread over the nodes
 * round-robin. Measures how fast the nodes accept them (connections/s,
 * connect-to-hello latency) and what each costs in memory, per node and for the
 * nodes together (idle/rss-growth.ts). At the end every connection is pinged
 * once, to show it is still open and served.
 */
import { say } from '../cli/progress.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { Timeline } from '../metrics/timeline.ts';
import { now, sleep } from '../util/time.ts';
import type { HolderChecked, HolderConnected } from '../idle/holder-protocol.ts';
import { connectedByNode, startHolder } from '../idle/holders.ts';
import { RssGrowth, type RssFigures } from '../idle/rss-growth.ts';
import type { Scenario } from './scenario.ts';

/**
 * Connections per holder process: under the 20,000 open files one process may
 * have (`ulimit -Hn` here, not raisable), with room for its own files.
 */
const PER_HOLDER = 9000;
/** Source addresses to spread connections over (each has its own ephemeral port range). */
const SOURCE_ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

export const idleScenario: Scenario = {
  name: 'idle',
  loadShape: () => null,
  async run(context) {
    const { options, target, progress } = context;
    const total = options.connections;
    const nodes = target.nodes.length;
    const holderCount = Math.max(1, Math.ceil(total / PER_HOLDER));
    // Even shares, so no holder comes near the open-files limit before another.
    const shares = Array.from({ length: holderCount }, (_, h) => Math.floor(total / holderCount) + (h < total % holderCount ? 1 : 0));
    const holders = shares.map(() => startHolder(nodes));
    try {
      await sleep(1000); // let the nodes settle after the ceilings and start-up
      const memory = new RssGrowth(target.nodes.map((n) => n.serverPid));
      const timeline = new Timeline();
      const t0 = now();
      timeline.start(t0);
      context.measureStarted(t0);
      say(`opening ${total} connections${nodes > 1 ? ` to ${nodes} nodes` : ''} from ${holderCount} process(es) over ${SOURCE_ADDRESSES.length} source addresses`);
      let firstIndex = 0;
      holders.forEach((holder, h) => {
        const count = shares[h] as number;
        holder.send({ kind: 'start', urls: target.nodes.map((n) => n.wsUrl), jwtSecret: target.jwtSecret, count, firstIndex, sourceAddresses: SOURCE_ADDRESSES, concurrency: 100 });
        firstIndex += count;
      });
      let reported = 0;
      const ticker = setInterval(() => {
        const open = connectedByNode(holders, nodes);
        const connected = open.reduce((a, b) => a + b, 0);
        timeline.addAck(now(), connected - reported);
        reported = connected;
        memory.record(open);
      }, 250);
      const results: HolderConnected[] = await Promise.all(holders.map((h) => h.next('connected')));
      clearInterval(ticker);
      const connectSeconds = (now() - t0) / 1000;
      const byNode = connectedByNode(holders, nodes);
      const connected = byNode.reduce((a, b) => a + b, 0);
      timeline.addAck(now(), connected - reported);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      const connectLatency = new LatencyHistogram();
      for (const r of results) for (const ms of r.connectMs) connectLatency.record(ms);
      say(`${connected} connected in ${connectSeconds.toFixed(1)} s${nodes > 1 ? ` (${byNode.join(' + ')})` : ''}${failed > 0 ? `, ${failed} failed (${results.find((r) => r.firstError !== null)?.firstError ?? ''})` : ''}; holding ${options.durationS} s`);
      progress.start('idle', options.durationS);
      const holdStart = now();
      while (now() - holdStart < options.durationS * 1000) {
        await sleep(250);
        progress.update((now() - holdStart) / 1000, { ackedPerS: 0, deliveredPerS: 0, errors: failed, note: `${connected} open` });
      }
      progress.stop();
      memory.recordHeld(byNode);
      const checks: HolderChecked[] = await Promise.all(holders.map((h) => (h.send({ kind: 'check' }), h.next('checked'))));
      context.measureEnded(now());
      const alive = checks.reduce((sum, c) => sum + c.alive, 0);
      const dropped = checks.reduce((sum, c) => sum + c.dropped, 0);
      await Promise.all(holders.map((h) => (h.send({ kind: 'close' }), h.next('closed'))));
      const all = memory.total(byNode);
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
          refused: failed,
          connections_per_s: Math.round(connected / connectSeconds),
          bytes_per_connection: all.bytes_per_connection,
          marginal_bytes_per_connection: all.marginal_bytes_per_connection,
          server_rss_mb_before: all.rss_mb_before,
          server_rss_mb_held: all.rss_mb_held,
          hold_s: options.durationS,
          alive,
          dropped,
          holders: holderCount,
          ...(nodes > 1 ? perNodeFields(memory.perNode(byNode)) : {}),
        },
        notes: [
          'idle: bytes_per_connection is (RSS holding them - RSS before) / connections, one-time growth (heap, JIT code) included; marginal_bytes_per_connection is the slope of RSS over connections while they were opened (the last three quarters)' +
            (nodes > 1 ? '; both for the nodes together (RSS summed) and, as node_<i>_*, for each node with the connections it held' : ''),
          'idle: "acked" counts connections that got their hello, acked_per_s is the connection rate, ack latency is connect-to-hello, duration_s is the connect phase',
        ],
      };
    } finally {
      for (const holder of holders) holder.child.kill();
    }
  },
};

/** Each node's memory figures as flat summary fields, node_1_* first. */
function perNodeFields(perNode: readonly RssFigures[]): Record<string, number | null> {
  return Object.fromEntries(perNode.flatMap((f, i) => Object.entries(f).map(([key, value]) => [`node_${i + 1}_${key}`, value])));
}
