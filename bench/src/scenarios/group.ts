/**
 * group: G groups of M members. In each group one member sends each message, the
 * senders taking turns, with a window of W unacknowledged messages per group; every
 * message fans out to the M-1 other members. Reports fan-out deliveries per second.
 */
import { newLane, newSender, type Sender } from '../load/lanes.ts';
import { SendTracker } from '../load/send-tracker.ts';
import { say } from '../cli/progress.ts';
import { closeAll, connectUsers, createGroups } from './connect-users.ts';
import { loadPhaseOutcome, runLoadPhase } from './load-phase.ts';
import type { Scenario } from './scenario.ts';

export const groupScenario: Scenario = {
  name: 'group',
  loadShape: (options) => ({ conversations: options.groups, membersPerConversation: options.members, connections: options.groups, window: options.window }),
  async run(context) {
    const { options, target } = context;
    say(`connecting ${options.groups * options.members} users`);
    const { sockets } = await connectUsers(target, options.groups * options.members);
    try {
      const groups = Array.from({ length: options.groups }, (_, g) => sockets.slice(g * options.members, (g + 1) * options.members));
      const conversationIds = await createGroups(groups);
      const tracker = new SendTracker(options.contentBytes);
      const lanes = groups.map((members, g) => {
        const senders: Sender[] = members.map((socket, m) => newSender(g * options.members + m, socket));
        for (const sender of senders) tracker.addSender(sender);
        return newLane(conversationIds[g] as string, senders, options.members - 1);
      });
      for (const socket of sockets) tracker.watch(socket);
      const mode = options.rate === null ? `closed loop, window ${options.window} per group` : `open loop, ${options.rate}/s`;
      say(`${options.groups} groups of ${options.members}, ${mode}, ${options.warmupS} s warm-up + ${options.durationS} s`);
      const phase = await runLoadPhase(context, tracker, lanes, 'group');
      return loadPhaseOutcome(options.durationS, tracker, lanes, phase, {
          groups: options.groups,
          members: options.members,
          window: options.rate === null ? options.window : null,
          rate: options.rate,
          connections: sockets.length,
          fanout_per_s: phase.deliveredInWindow / options.durationS,
          repeated_events: tracker.repeatedEvents,
        });
    } finally {
      await closeAll(sockets);
    }
  },
};
