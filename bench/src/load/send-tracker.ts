/**
 * Sends msg.send requests and follows each one to its ack and to every delivery,
 * recording ack and delivery latency (from the intended send time) in HDR
 * histograms and per-second counts in the timeline. Only sends due inside the
 * measured window count toward latency; acks and deliveries count toward
 * throughput by when they arrive.
 */
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { Timeline } from '../metrics/timeline.ts';
import type { BenchSocket, EventFrame, ReplyFrame } from '../wire/bench-socket.ts';
import { makeContent } from './content.ts';
import type { Lane, SendRecord, Sender } from './lanes.ts';

interface DeliveredMessage {
  sender_id?: unknown;
  client_random?: unknown;
}

export class SendTracker {
  readonly ackLatency = new LatencyHistogram();
  readonly deliverLatency = new LatencyHistogram();
  readonly timeline = new Timeline();
  readonly errorsByCode: Record<string, number> = {};
  sent = 0;
  acked = 0;
  delivered = 0;
  /** msg.new events for messages already fully delivered (allowed: delivery is at-least-once). */
  repeatedEvents = 0;
  errors = 0;
  /** Called after every reply, ok or not (the closed loop refills its window here). */
  onSettled: ((lane: Lane, at: number) => void) | null = null;
  private measureFrom = Number.POSITIVE_INFINITY;
  private measureTo = Number.POSITIVE_INFINITY;
  private readonly sendersById = new Map<string, Sender>();
  private openSends = 0;

  constructor(private readonly contentBytes: number) {}

  /** Starts the timeline and the measured window [from, from + seconds). */
  measure(from: number, seconds: number): void {
    this.timeline.start(from);
    this.measureFrom = from;
    this.measureTo = from + seconds * 1000;
  }

  addSender(sender: Sender): void {
    this.sendersById.set(sender.userId, sender);
  }

  /** Routes a connection's msg.new events to delivery accounting. */
  watch(socket: BenchSocket): void {
    const ownId = socket.userId;
    socket.onEvent = (event, at) => {
      if (event.ev === 'msg.new') this.onMessage(ownId, event, at);
    };
  }

  /** Sends awaiting an ack or a delivery. */
  get open(): number {
    return this.openSends;
  }

  send(lane: Lane, intendedAt: number): void {
    const sender = lane.senders[lane.nextSender] as Sender;
    lane.nextSender = (lane.nextSender + 1) % lane.senders.length;
    const clientRandom = sender.nextClientRandom++;
    const record: SendRecord = {
      lane,
      sender,
      clientRandom,
      intendedAt,
      measured: intendedAt >= this.measureFrom && intendedAt < this.measureTo,
      acked: false,
      deliveriesLeft: lane.deliveriesPerMessage,
    };
    sender.open.set(clientRandom, record);
    this.openSends++;
    lane.inFlight++;
    this.sent++;
    sender.socket.request(
      'msg.send',
      { conversation_id: lane.conversationId, client_random: clientRandom, type: 'text', content: makeContent(sender.index, clientRandom, this.contentBytes) },
      (reply, at) => this.onReply(record, reply, at),
    );
  }

  private onReply(record: SendRecord, reply: ReplyFrame, at: number): void {
    const { lane, sender } = record;
    lane.inFlight--;
    const message = reply['message'] as { id?: unknown; seq?: unknown } | undefined;
    if (reply.ok && typeof message?.id === 'string' && typeof message.seq === 'number') {
      record.acked = true;
      this.acked++;
      this.timeline.addAck(at);
      if (record.measured) {
        this.ackLatency.record(at - record.intendedAt);
        this.timeline.addAckLatency(at, at - record.intendedAt);
      }
      lane.acked.push({ seq: message.seq, id: message.id, senderId: sender.userId, senderIndex: sender.index, clientRandom: record.clientRandom });
      if (record.deliveriesLeft === 0) this.close(record);
    } else {
      const code = reply.ok ? 'malformed_reply' : (reply.error?.code ?? 'unknown');
      this.errors++;
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
      this.timeline.addError(at);
      lane.failed.push({ senderId: sender.userId, clientRandom: record.clientRandom });
      this.close(record);
    }
    this.onSettled?.(lane, at);
  }

  private onMessage(receiverId: string, event: EventFrame, at: number): void {
    const message = event['message'] as DeliveredMessage | undefined;
    const senderId = message?.sender_id;
    if (typeof senderId !== 'string' || senderId === receiverId) return; // the sender's own echo
    const sender = this.sendersById.get(senderId);
    const record = typeof message?.client_random === 'number' ? sender?.open.get(message.client_random) : undefined;
    if (record === undefined || record.deliveriesLeft === 0) {
      this.repeatedEvents++;
      return;
    }
    record.deliveriesLeft--;
    this.delivered++;
    this.timeline.addDelivery(at);
    if (record.measured) this.deliverLatency.record(at - record.intendedAt);
    if (record.deliveriesLeft === 0 && record.acked) this.close(record);
  }

  private close(record: SendRecord): void {
    if (record.sender.open.delete(record.clientRandom)) this.openSends--;
  }
}

/** What is still open at the end of a run: sends never answered, and acked messages some recipient never got. */
export function openSends(senders: Iterable<Sender>): { unanswered: number; undelivered: number } {
  let unanswered = 0;
  let undelivered = 0;
  for (const sender of senders) {
    for (const record of sender.open.values()) {
      if (!record.acked) unanswered++;
      else if (record.deliveriesLeft > 0) undelivered++;
    }
  }
  return { unanswered, undelivered };
}
