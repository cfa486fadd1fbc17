/**
 * direct: P pairs of users, each pair in its direct conversation; one member of
 * each pair sends, the other receives. Closed loop (window W per sender) measures
 * throughput; --rate R runs the open loop for latency without coordinated omission.
 */
import { newLane, newSender } from '../load/lanes.ts';
import { SendTracker } from '../load/send-tracker.ts';
import { say } from '../cli/progress.ts';
import { closeAll, connectUsers, createDirects } from './connect-users.ts';
import { loadPhaseOutcome, runLoadPhase } from './load-phase.ts';
import type { Scenario } from './scenario.ts';

export const directScenario: Scenario = {
  name: 'direct',
  loadShape: (options) => ({ conversations: options.pairs, membersPerConversation: 2, connections: options.pairs, window: options.window }),
  async run(context) {
    const { options, target } = context;
    say(`connecting ${options.pairs * 2} users`);
    const { sockets } = await connectUsers(target, options.pairs * 2);
    const senders = sockets.slice(0, options.pairs);
    const receivers = sockets.slice(options.pairs);
    try {
      const conversationIds = await createDirects(senders, receivers);
      const tracker = new SendTracker(options.contentBytes);
      const lanes = senders.map((socket, i) => {
        const sender = newSender(i, socket);
        tracker.addSender(sender);
        return newLane(conversationIds[i] as string, [sender], 1);
      });
      for (const socket of sockets) tracker.watch(socket);
      const mode = options.rate === null ? `closed loop, window ${options.window}` : `open loop, ${options.rate}/s`;
      say(`${options.pairs} pairs, ${mode}, ${options.warmupS} s warm-up + ${options.durationS} s`);
      const phase = await runLoadPhase(context, tracker, lanes, 'direct');
      return loadPhaseOutcome(options.durationS, tracker, lanes, phase, { pairs: options.pairs, window: options.rate === null ? options.window : null, rate: options.rate, connections: sockets.length, skipped_sends: phase.skipped, repeated_events: tracker.repeatedEvents });
    } finally {
      await closeAll(sockets);
    }
  },
};
