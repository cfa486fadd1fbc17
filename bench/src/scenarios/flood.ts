/**
 * flood: how much a flood of requests for conversations that do not exist
 * costs a well-behaved pair on the same node. The pair chats at a steady pace
 * (--pair-rate, both users taking turns) first alone for --duration seconds,
 * then while another user floods --requests requests (msg.send, msg.history,
 * conv.get naming random UUIDs) over its own connections as fast as the node
 * answers them. Reports the pair's ack latency in both phases side by side and
 * how the flood was answered. The node runs with its default send rate limit:
 * how it defends itself is part of what is measured.
 */
import { say } from '../cli/progress.ts';
import { flood, type FloodResult } from '../load/flooder.ts';
import { PacedPair, type PairPhase } from '../load/paced-pair.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { now, sleep } from '../util/time.ts';
import { nodeFor } from '../target/target.ts';
import { closeAll, connectUsers, connectWithRetry, createDirects } from './connect-users.ts';
import type { Scenario, ScenarioContext } from './scenario.ts';

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The pair's figures for one phase (`alone`, `flood`), named for the flat summary. */
function phaseFigures(phaseName: string, phase: PairPhase | undefined): Record<string, number | null> {
  if (phase === undefined) return {};
  return {
    [`pair_sent_${phaseName}`]: phase.sent,
    [`pair_acked_${phaseName}`]: phase.acked,
    [`p50_ack_${phaseName}_ms`]: round(phase.ack.at(50), 3),
    [`p99_ack_${phaseName}_ms`]: round(phase.ack.at(99), 3),
    [`p999_ack_${phaseName}_ms`]: round(phase.ack.at(99.9), 3),
    [`max_ack_${phaseName}_ms`]: round(phase.ack.at(100), 3),
    [`p99_deliver_${phaseName}_ms`]: round(phase.deliver.at(99), 3),
    // How late the bench itself sent: a loaded bench inflates the latency it measures.
    [`p99_send_lag_${phaseName}_ms`]: round(phase.sendLag.at(99), 3),
  };
}

function floodFigures(result: FloodResult): Record<string, number | null> {
  const codes = Object.fromEntries(Object.entries(result.byCode).map(([code, n]) => [`flood_${code}`, n]));
  return {
    flood_requests: result.requests,
    flood_answered: result.answered,
    flood_s: round(result.seconds, 2),
    flood_per_s: result.seconds === 0 ? null : Math.round(result.answered / result.seconds),
    ...codes,
  };
}

/** Runs the progress bar while `work` runs. */
async function withProgress<T>(context: ScenarioContext, pair: PacedPair, t0: number, note: string, work: Promise<T>): Promise<T> {
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    await sleep(250);
    context.progress.update((now() - t0) / 1000, { ackedPerS: pair.timeline.recentAckRate(), deliveredPerS: pair.timeline.recentDeliveryRate(), errors: 0, note });
  }
  return work;
}

export const floodScenario: Scenario = {
  name: 'flood',
  loadShape: () => null,
  // The node's own send limit (an empty value is unset): a flooder meets the limiter a deployment would have.
  nodeEnv: () => ({ WHISPR_SEND_RATE_PER_S: '', WHISPR_SEND_BURST: '', WHISPR_OP_RATE_SCALE: '' }),
  async run(context) {
    const { options, target } = context;
    say('connecting the pair and the flooder');
    const pairUsers = await connectUsers(target, 2);
    const flooderUser = await connectUsers(target, 1, 2);
    const [a, b] = pairUsers.sockets;
    const flooderToken = flooderUser.users[0]?.token;
    if (a === undefined || b === undefined || flooderToken === undefined) throw new Error('the pair or the flooder did not connect');
    // The flooder's further connections continue the round-robin over the nodes after its first.
    const extraFlooders = await Promise.all(Array.from({ length: options.floodConnections - 1 }, (_, k) => connectWithRetry(nodeFor(target, 3 + k), flooderToken)));
    const flooders = [...flooderUser.sockets, ...extraFlooders];
    try {
      const [conversationId] = await createDirects([a], [b]);
      if (conversationId === undefined) throw new Error('no direct conversation for the pair');
      const pair = new PacedPair(conversationId, [a, b], 0, options.contentBytes);
      const t0 = now();
      const measureFrom = t0 + options.warmupS * 1000;
      pair.timeline.start(measureFrom);
      context.progress.start('flood', options.warmupS + options.durationS + 10);
      pair.beginPhase('warmup');
      pair.start(options.pairRate);
      say(`pair at ${options.pairRate}/s: ${options.warmupS} s warm-up, ${options.durationS} s alone`);
      await withProgress(context, pair, t0, '(warm-up)', sleep(options.warmupS * 1000));
      context.measureStarted(now());
      pair.beginPhase('alone');
      await withProgress(context, pair, t0, 'alone', sleep(options.durationS * 1000));
      say(`flooding ${options.floodRequests} requests for conversations that do not exist (${flooders.length} connections, ${options.floodWindow} in flight each)`);
      pair.beginPhase('flood');
      const flooded = await withProgress(context, pair, t0, 'flood', flood(flooders, options.floodRequests, options.floodWindow));
      const measureEnded = now();
      context.measureEnded(measureEnded);
      pair.beginPhase('after');
      await pair.stop();
      context.progress.stop();
      const check = pair.check();
      const alone = pair.phaseNamed('alone');
      const during = pair.phaseNamed('flood');
      const ack = new LatencyHistogram();
      const deliver = new LatencyHistogram();
      for (const phase of [alone, during]) {
        if (phase === undefined) continue;
        ack.merge(phase.ack);
        deliver.merge(phase.deliver);
      }
      const durationS = (measureEnded - measureFrom) / 1000;
      const figures = { ...phaseFigures('alone', alone), ...phaseFigures('flood', during) };
      return {
        durationS,
        acked: check.acked,
        ackedInWindow: (alone?.acked ?? 0) + (during?.acked ?? 0),
        messagesWrittenInWindow: (alone?.acked ?? 0) + (during?.acked ?? 0),
        deliveredInWindow: deliver.count,
        errors: Object.values(check.errorsByCode).reduce((sum, n) => sum + n, 0),
        errorsByCode: check.errorsByCode,
        ackLatency: ack,
        deliverLatency: deliver,
        timeline: pair.timeline,
        lanes: [pair.lane],
        undelivered: check.undelivered,
        unanswered: check.unanswered,
        extra: {
          pair_rate: options.pairRate,
          alone_s: options.durationS,
          ...figures,
          ...floodFigures(flooded),
          pair_seq_problems: check.seqProblems,
          pair_out_of_order: check.outOfOrder,
          pair_foreign_messages: check.foreignMessages,
        },
        notes: [
          `flood: the pair's ack latency alone: p50 ${figures['p50_ack_alone_ms']} ms, p99 ${figures['p99_ack_alone_ms']} ms; ` +
            `during the flood: p50 ${figures['p50_ack_flood_ms']} ms, p99 ${figures['p99_ack_flood_ms']} ms (from each send's scheduled time)`,
          `flood: ${flooded.answered}/${flooded.requests} flood requests answered in ${round(flooded.seconds)} s: ${JSON.stringify(flooded.byCode)}`,
          'flood: acked and the ack latency are the pair\'s sends in both measured phases; the summary\'s flood_* fields are the flood\'s own',
        ],
      };
    } finally {
      await closeAll([...pairUsers.sockets, ...flooders]);
    }
  },
};
