/**
 * direct: P pairs of users, each pair in its direct conversation; one member of
 * each pair sends, the other receives. Closed loop (window W per sender) measures
 * throughput; --rate R runs the open loop for latency without coordinated omission.
 * With --nodes the users are spread over the nodes; --cross places every pair so
 * that all its traffic crosses nodes (direct-pairs.ts).
 */
import { newLane, newSender } from '../load/lanes.ts';
import { SendTracker } from '../load/send-tracker.ts';
import { say } from '../cli/progress.ts';
import { closeAll } from './connect-users.ts';
import { crossFigures, readForwardCounts } from './cross-evidence.ts';
import { crossNodePairs, roundRobinPairs } from './direct-pairs.ts';
import { loadPhaseOutcome, runLoadPhase } from './load-phase.ts';
import type { Scenario } from './scenario.ts';

export const directScenario: Scenario = {
  name: 'direct',
  loadShape: (options) => ({ conversations: options.pairs, membersPerConversation: 2, connections: options.pairs, window: options.window }),
  async run(context) {
    const { options, target } = context;
    const { senders, receivers, conversationIds } = options.cross ? await crossNodePairs(target, options.pairs) : await roundRobinPairs(target, options.pairs);
    const sockets = [...senders, ...receivers];
    try {
      const tracker = new SendTracker(options.contentBytes);
      const lanes = senders.map((socket, i) => {
        const sender = newSender(i, socket);
        tracker.addSender(sender);
        return newLane(conversationIds[i] as string, [sender], 1);
      });
      for (const socket of sockets) tracker.watch(socket);
      const mode = options.rate === null ? `closed loop, window ${options.window}` : `open loop, ${options.rate}/s`;
      say(`${options.pairs} pairs, ${mode}, ${options.warmupS} s warm-up + ${options.durationS} s`);
      const forwardedBefore = options.cross ? await readForwardCounts(target) : null;
      const phase = await runLoadPhase(context, tracker, lanes, 'direct');
      const evidence = options.cross ? crossFigures(forwardedBefore, await readForwardCounts(target), tracker.acked + tracker.errors + phase.unanswered, tracker.acked) : {};
      const notes = evidence['forwarded_share'] !== undefined && evidence['forwarded_share'] !== 1
        ? [`--cross: the nodes forwarded ${evidence['forwarded_requests'] ?? '?'} requests for ${tracker.acked + tracker.errors + phase.unanswered} sends (share ${evidence['forwarded_share'] ?? '?'}): not every send crossed nodes once`]
        : [];
      const outcome = loadPhaseOutcome(options.durationS, tracker, lanes, phase, {
        pairs: options.pairs,
        window: options.rate === null ? options.window : null,
        rate: options.rate,
        connections: sockets.length,
        cross: options.cross ? 1 : 0,
        skipped_sends: phase.skipped,
        repeated_events: tracker.repeatedEvents,
        ...evidence,
      });
      return { ...outcome, notes: [...outcome.notes, ...notes] };
    } finally {
      await closeAll(sockets);
    }
  },
};
