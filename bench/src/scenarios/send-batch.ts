/**
 * Sends a fixed number of messages per lane with a window of unacknowledged
 * sends, recording each ack in the lane (for verification) and its latency.
 * Used where a scenario needs messages in place rather than a timed load.
 */
import { makeContent } from '../load/content.ts';
import type { Lane, Sender } from '../load/lanes.ts';
import type { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { now } from '../util/time.ts';

export interface SendBatchResult {
  acked: number;
  errors: number;
  errorsByCode: Record<string, number>;
}

export async function sendBatch(
  lanes: readonly Lane[],
  perLane: number,
  window: number,
  contentBytes: number,
  latency: LatencyHistogram | null,
  onAck: ((at: number) => void) | null = null,
): Promise<SendBatchResult> {
  const result: SendBatchResult = { acked: 0, errors: 0, errorsByCode: {} };
  await Promise.all(
    lanes.map(
      (lane) =>
        new Promise<void>((resolve) => {
          let started = 0;
          let settled = 0;
          const sendOne = (): void => {
            started++;
            const sender = lane.senders[lane.nextSender] as Sender;
            lane.nextSender = (lane.nextSender + 1) % lane.senders.length;
            const clientRandom = sender.nextClientRandom++;
            const t0 = now();
            sender.socket.request(
              'msg.send',
              { conversation_id: lane.conversationId, client_random: clientRandom, type: 'text', content: makeContent(sender.index, clientRandom, contentBytes) },
              (reply, at) => {
                settled++;
                const message = reply['message'] as { id?: unknown; seq?: unknown } | undefined;
                if (reply.ok && typeof message?.id === 'string' && typeof message.seq === 'number') {
                  result.acked++;
                  latency?.record(at - t0);
                  onAck?.(at);
                  lane.acked.push({ seq: message.seq, id: message.id, senderId: sender.userId, senderIndex: sender.index, clientRandom });
                } else {
                  const code = reply.error?.code ?? 'malformed_reply';
                  result.errors++;
                  result.errorsByCode[code] = (result.errorsByCode[code] ?? 0) + 1;
                  lane.failed.push({ senderId: sender.userId, clientRandom });
                }
                if (started < perLane) sendOne();
                else if (settled === perLane) resolve();
              },
            );
          };
          if (perLane === 0) return resolve();
          for (let i = 0; i < Math.min(window, perLane); i++) sendOne();
        }),
    ),
  );
  return result;
}
