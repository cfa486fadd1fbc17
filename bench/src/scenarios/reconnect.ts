/**
 * reconnect: C clients, each in a direct conversation with a sender that stays
 * online. All C drop at once (TCP gone, no close handshake); while they are away
 * each sender sends N messages; then all C reconnect at once and recover with
 * `sync` from the last seq they had (plus whatever the offline queue pushes).
 * Reports the time until every client holds every message, and any missing.
 */
import { say } from '../cli/progress.ts';
import { newLane, newSender } from '../load/lanes.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { Timeline } from '../metrics/timeline.ts';
import { runPool } from '../util/pool.ts';
import { now, waitFor } from '../util/time.ts';
import type { BenchSocket, EventFrame } from '../wire/bench-socket.ts';
import { nodeFor } from '../target/target.ts';
import { closeAll, connectUsers, connectWithRetry, createDirects } from './connect-users.ts';
import type { Scenario } from './scenario.ts';
import { sendBatch } from './send-batch.ts';
import { SeqSet } from './seq-set.ts';

const MESSAGES_BEFORE_DROP = 5;
const RECOVERY_TIMEOUT_MS = 60_000;
const SYNC_PAGE = 100;

export const reconnectScenario: Scenario = {
  name: 'reconnect',
  loadShape: () => null,
  async run(context) {
    const { options, target } = context;
    const count = options.connections;
    say(`connecting ${count} clients and ${count} senders`);
    const clients = await connectUsers(target, count);
    const senders = await connectUsers(target, count, count);
    const live: BenchSocket[] = [...senders.sockets];
    let reconnected: BenchSocket[] = [];
    try {
      const conversationIds = await createDirects(senders.sockets, clients.sockets);
      const lanes = senders.sockets.map((socket, i) => newLane(conversationIds[i] as string, [newSender(count + i, socket)], 1));
      const seen = clients.sockets.map(() => new SeqSet());
      const wrong = { count: 0 };
      const idsBySeq = lanes.map(() => new Map<number, string>());
      const track = (i: number, message: { conversation_id?: unknown; seq?: unknown; id?: unknown }, at: number, timeline: Timeline | null): void => {
        if (message.conversation_id !== conversationIds[i] || typeof message.seq !== 'number') return;
        const expectedId = idsBySeq[i]?.get(message.seq);
        if (expectedId !== undefined && expectedId !== message.id) wrong.count++;
        if ((seen[i] as SeqSet).add(message.seq)) timeline?.addDelivery(at);
      };
      clients.sockets.forEach((socket, i) => {
        socket.onEvent = (event: EventFrame, at) => {
          if (event.ev === 'msg.new') track(i, event['message'] as Record<string, unknown>, at, null);
        };
      });
      await sendBatch(lanes, MESSAGES_BEFORE_DROP, options.window, options.contentBytes, null);
      await waitFor(() => seen.every((s) => s.size >= MESSAGES_BEFORE_DROP), 15_000);

      const timeline = new Timeline();
      const tDrop = now();
      timeline.start(tDrop);
      context.measureStarted(tDrop);
      say(`dropping ${count} clients at once; ${options.messages} messages each while they are away`);
      await Promise.all(clients.sockets.map((s) => s.terminate()));
      const ackLatency = new LatencyHistogram();
      const away = await sendBatch(lanes, options.messages, options.window, options.contentBytes, ackLatency, (at) => timeline.addAck(at));
      const awaySeconds = (now() - tDrop) / 1000;
      lanes.forEach((lane, i) => {
        for (const ack of lane.acked) idsBySeq[i]?.set(ack.seq, ack.id);
      });
      const expected = lanes.map((lane) => lane.acked.reduce((max, a) => Math.max(max, a.seq), 0));

      say(`reconnecting ${count} clients at once and syncing`);
      const recovery = new LatencyHistogram();
      const recoveredAt: Array<number | null> = clients.sockets.map(() => null);
      const tReconnect = now();
      const markIfDone = (i: number, at: number): void => {
        if (recoveredAt[i] === null && (seen[i] as SeqSet).hasAll(expected[i] as number)) {
          recoveredAt[i] = at;
          recovery.record(at - tReconnect);
        }
      };
      let syncErrors = 0;
      reconnected = await runPool(clients.users, 256, async (user, i) => {
        const socket = await connectWithRetry(nodeFor(target, user.index), user.token); // the node it dropped from
        socket.onEvent = (event, at) => {
          if (event.ev !== 'msg.new') return;
          track(i, event['message'] as Record<string, unknown>, at, timeline);
          markIfDone(i, at);
        };
        let after = (seen[i] as SeqSet).contiguousEnd();
        for (;;) {
          try {
            const reply = await socket.call('sync', { cursors: [{ conversation_id: conversationIds[i], after_seq: after }], limit: SYNC_PAGE });
            const answer = (reply['conversations'] as Array<{ messages: Array<Record<string, unknown>>; complete: boolean }> | undefined)?.[0];
            const at = now();
            for (const message of answer?.messages ?? []) {
              track(i, message, at, timeline);
              if (typeof message['seq'] === 'number') after = Math.max(after, message['seq']);
            }
            markIfDone(i, at);
            if (answer === undefined || answer.complete || (answer.messages.length === 0)) break;
          } catch {
            syncErrors++;
            break;
          }
        }
        return socket;
      });
      await waitFor(() => recoveredAt.every((t) => t !== null), RECOVERY_TIMEOUT_MS);
      const tEnd = now();
      context.measureEnded(tEnd);
      const recoveredTimes = recoveredAt.filter((t): t is number => t !== null);
      const recoveryMs = recoveredTimes.length === count ? Math.max(tReconnect, ...recoveredTimes) - tReconnect : null;
      const unrecovered = seen.reduce((sum, s, i) => sum + s.missing(expected[i] as number), 0);
      const errorsByCode = { ...away.errorsByCode, ...(syncErrors > 0 ? { sync_failed: syncErrors } : {}) };
      return {
        durationS: (tEnd - tDrop) / 1000,
        acked: away.acked,
        ackedInWindow: away.acked,
        messagesWrittenInWindow: away.acked,
        deliveredInWindow: seen.reduce((sum, s) => sum + s.size, 0),
        errors: away.errors + syncErrors,
        errorsByCode,
        ackLatency,
        deliverLatency: recovery,
        timeline,
        lanes,
        undelivered: unrecovered,
        unanswered: 0,
        extra: {
          connections: count,
          messages_while_away: options.messages,
          away_s: Math.round(awaySeconds * 100) / 100,
          recovery_ms: recoveryMs === null ? null : Math.round(recoveryMs),
          clients_recovered: recoveredTimes.length,
          unrecovered,
          wrong_messages: wrong.count,
        },
        notes: [
          'reconnect: acked counts the messages sent while the clients were away; the "delivered" latency is each client\'s time from the mass reconnect until it held every message; recovery_ms is the slowest client',
        ],
      };
    } finally {
      await closeAll([...live, ...clients.sockets, ...reconnected]);
    }
  },
};
