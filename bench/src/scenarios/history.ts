/**
 * history: K group conversations of N messages each (written through the node
 * first, and verified like any other), then C readers page through them from the
 * newest message back to seq 1, over and over, one request in flight each. Reports
 * pages per second and page latency, and checks every full pass returned exactly
 * seqs N..1.
 */
import { say } from '../cli/progress.ts';
import { newLane, newSender } from '../load/lanes.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { Timeline } from '../metrics/timeline.ts';
import { now, sleep } from '../util/time.ts';
import type { BenchSocket } from '../wire/bench-socket.ts';
import { closeAll, connectUsers, createGroups } from './connect-users.ts';
import type { Scenario } from './scenario.ts';
import { sendBatch } from './send-batch.ts';

/** Conversations paged: few, so each is long and several readers share one. */
const CONVERSATIONS = 4;

interface Pass {
  next: number;
  bad: boolean;
}

export const historyScenario: Scenario = {
  name: 'history',
  loadShape: () => null,
  async run(context) {
    const { options, target, progress } = context;
    const conversations = Math.min(CONVERSATIONS, Math.max(1, options.connections));
    say(`connecting ${conversations} writers and ${options.connections} readers`);
    const writers = await connectUsers(target, conversations);
    const readers = await connectUsers(target, options.connections, conversations);
    try {
      const groups = writers.sockets.map((writer, k) => [writer, ...readers.sockets.filter((_, r) => r % conversations === k)]);
      const conversationIds = await createGroups(groups);
      const lanes = writers.sockets.map((socket, k) => newLane(conversationIds[k] as string, [newSender(k, socket)], 0));
      say(`writing ${options.messages} messages into each of ${conversations} conversations`);
      const seeded = await sendBatch(lanes, options.messages, 64, options.contentBytes, null);
      const lastSeq = lanes.map((lane) => lane.acked.reduce((max, a) => Math.max(max, a.seq), 0));
      const pageSize = options.pageSize ?? readers.sockets[0]?.limits.history_max ?? 100;

      const latency = new LatencyHistogram();
      const timeline = new Timeline();
      let pages = 0;
      let messagesRead = 0;
      let passes = 0;
      let badPasses = 0;
      let errors = 0;
      const errorsByCode: Record<string, number> = {};
      let running = true;
      const t0 = now();
      const measureFrom = t0 + options.warmupS * 1000;
      const measureTo = measureFrom + options.durationS * 1000;
      timeline.start(measureFrom);
      const readLoop = (reader: BenchSocket, r: number): Promise<void> =>
        new Promise((resolve) => {
          const k = r % conversations;
          const last = lastSeq[k] as number;
          let pass: Pass = { next: last, bad: false };
          const page = (): void => {
            if (!running) return resolve();
            const sentAt = now();
            const fields: Record<string, unknown> = { conversation_id: conversationIds[k], limit: pageSize };
            if (pass.next < last) fields['before_seq'] = pass.next + 1;
            reader.request('msg.history', fields, (reply, at) => {
              const measured = sentAt >= measureFrom && sentAt < measureTo;
              if (!reply.ok) {
                if (!reader.isOpen) return resolve(); // connection gone: stop rather than spin on instant errors
                errors++;
                const code = reply.error?.code ?? 'unknown';
                errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
                timeline.addError(at);
                return page();
              }
              const messages = (reply['messages'] as Array<{ seq?: unknown }> | undefined) ?? [];
              if (measured) {
                latency.record(at - sentAt);
                pages++;
                messagesRead += messages.length;
              }
              timeline.addAck(at);
              // A page is ascending and ends just below before_seq: walk it from its end.
              for (let i = messages.length - 1; i >= 0; i--) {
                if (messages[i]?.seq !== pass.next) pass.bad = true;
                pass.next--;
              }
              if (reply['has_more'] !== true || messages.length === 0) {
                if (pass.next !== 0) pass.bad = true;
                if (measured) {
                  passes++;
                  if (pass.bad) badPasses++;
                }
                pass = { next: last, bad: false };
              }
              page();
            });
          };
          page();
        });
      say(`${options.connections} readers paging ${pageSize} at a time, ${options.warmupS} s warm-up + ${options.durationS} s`);
      progress.start('history', options.warmupS + options.durationS);
      const loops = readers.sockets.map((reader, r) => readLoop(reader, r));
      let started = false;
      while (now() < measureTo) {
        await sleep(250);
        if (!started && now() >= measureFrom) {
          started = true;
          context.measureStarted(measureFrom);
        }
        progress.update((now() - t0) / 1000, { ackedPerS: timeline.recentAckRate(), deliveredPerS: 0, errors, note: 'pages' });
      }
      running = false;
      if (!started) context.measureStarted(measureFrom);
      context.measureEnded(measureTo);
      progress.stop();
      await Promise.all(loops);
      return {
        durationS: options.durationS,
        acked: seeded.acked,
        ackedInWindow: pages,
        messagesWrittenInWindow: 0,
        deliveredInWindow: 0,
        errors: errors + seeded.errors,
        errorsByCode: { ...seeded.errorsByCode, ...errorsByCode },
        ackLatency: latency,
        deliverLatency: new LatencyHistogram(),
        timeline,
        lanes,
        undelivered: 0,
        unanswered: 0,
        extra: {
          connections: options.connections,
          conversations,
          messages_per_conversation: options.messages,
          page_size: pageSize,
          pages_per_s: Math.round((pages / options.durationS) * 10) / 10,
          messages_read_per_s: Math.round(messagesRead / options.durationS),
          full_passes: passes,
          bad_passes: badPasses,
        },
        notes: [
          'history: acked counts the messages written before paging; acked_per_s and the ack latency are pages (msg.history requests) per second and page latency',
        ],
      };
    } finally {
      await closeAll([...writers.sockets, ...readers.sockets]);
    }
  },
};
