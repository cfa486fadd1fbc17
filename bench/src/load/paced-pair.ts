/**
 * A well-behaved pair of users chatting at a steady pace in their direct
 * conversation, taking turns, while something else loads the node: the
 * canary of the fuzzer and of the flood scenario. Every send must be acked and
 * delivered to the peer; within the conversation the acked seqs must be exactly
 * 1..N, each sender's in the order it sent them; nobody else may write in it.
 * Ack latency runs from each send's scheduled time (so a stall shows in every
 * send it delayed) and is kept per named phase ("alone", "flood").
 */
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { Timeline } from '../metrics/timeline.ts';
import { now, sleep, waitFor } from '../util/time.ts';
import type { BenchSocket, EventFrame, ReplyFrame } from '../wire/bench-socket.ts';
import { makeContent } from './content.ts';
import { newLane, newSender, type Lane, type Sender } from './lanes.ts';

export interface PairPhase {
  name: string;
  sent: number;
  acked: number;
  ack: LatencyHistogram;
  /** Scheduled send to the peer's msg.new. */
  deliver: LatencyHistogram;
  /** How late the bench itself sent (actual − scheduled), to tell its own lag from the node's. */
  sendLag: LatencyHistogram;
}

export interface PairCheck {
  sent: number;
  acked: number;
  errorsByCode: Record<string, number>;
  unanswered: number;
  /** Acked messages the peer never received as msg.new. */
  undelivered: number;
  /** Seqs of 1..max(acked) no send was acked with, plus seqs acked twice. */
  seqProblems: number;
  /** Acks of one sender whose seq was not above that sender's previous ack (sent earlier). */
  outOfOrder: number;
  /** msg.new events in the pair's conversation for messages neither of them sent. */
  foreignMessages: number;
  /** Close codes of the pair's connections during the run. */
  closes: number[];
}

interface Pending {
  sender: Sender;
  clientRandom: number;
  order: number;
  scheduledAt: number;
  phase: PairPhase;
}

const DRAIN_TIMEOUT_MS = 15_000;

export class PacedPair {
  readonly lane: Lane;
  readonly phases: PairPhase[] = [];
  private phase: PairPhase;
  private readonly pending = new Map<string, Pending>();
  private readonly errorsByCode: Record<string, number> = {};
  private readonly ackedSeqs: number[] = [];
  private readonly lastSeqBySender = new Map<string, { order: number; seq: number }>();
  private readonly deliveredTo = new Map<string, Set<number>>();
  /** Sends not yet delivered to the peer, by sender/client_random: when they were due, in which phase. */
  private readonly awaitingDelivery = new Map<string, { scheduledAt: number; phase: PairPhase }>();
  private readonly foreign = new Set<string>();
  private readonly closes: number[] = [];
  private outOfOrder = 0;
  private sent = 0;
  private order = 0;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    readonly conversationId: string,
    private readonly sockets: readonly [BenchSocket, BenchSocket],
    /** Sender indexes for the bodies (makeContent), so verification can recompute them. */
    firstSenderIndex: number,
    private readonly contentBytes = 200,
    /** Per-second acks, deliveries, errors and slowest ack, for a bench report's charts. */
    readonly timeline: Timeline = new Timeline(),
  ) {
    const senders = sockets.map((socket, i) => newSender(firstSenderIndex + i, socket));
    this.lane = newLane(conversationId, senders, 1);
    this.phase = this.newPhase('run');
    for (const socket of sockets) {
      this.deliveredTo.set(socket.userId, new Set());
      socket.onEvent = (event, at) => this.onEvent(socket.userId, event, at);
      socket.onClose = (code) => this.closes.push(code);
    }
  }

  get acked(): number {
    return this.ackedSeqs.length;
  }

  /** The last phase of this name, if any. */
  phaseNamed(name: string): PairPhase | undefined {
    return [...this.phases].reverse().find((p) => p.name === name);
  }

  /** Sends from now on count toward a new phase. */
  beginPhase(name: string): void {
    this.phase = this.newPhase(name);
  }

  /** Starts sending `ratePerS` messages a second in total, the two users taking turns. */
  start(ratePerS: number): void {
    this.running = true;
    const interval = 1000 / ratePerS;
    this.loop = (async () => {
      let due = now();
      while (this.running) {
        const t = now();
        while (due <= t && this.running) {
          this.send(due, t);
          due += interval;
        }
        await sleep(Math.max(1, due - now()));
      }
    })();
  }

  /** Stops sending and waits (bounded) for every ack and delivery. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await waitFor(() => this.pending.size === 0 && this.undelivered() === 0, DRAIN_TIMEOUT_MS);
  }

  check(): PairCheck {
    // Seqs of 1..max nobody acked (a message stored though its send failed leaves one), plus seqs acked twice.
    const distinct = new Set(this.ackedSeqs);
    const max = Math.max(0, ...distinct);
    const seqProblems = max - distinct.size + (this.ackedSeqs.length - distinct.size);
    return {
      sent: this.sent,
      acked: this.ackedSeqs.length,
      errorsByCode: { ...this.errorsByCode },
      unanswered: this.pending.size,
      undelivered: this.undelivered(),
      seqProblems,
      outOfOrder: this.outOfOrder,
      foreignMessages: this.foreign.size,
      closes: [...this.closes],
    };
  }

  private newPhase(name: string): PairPhase {
    const phase: PairPhase = { name, sent: 0, acked: 0, ack: new LatencyHistogram(), deliver: new LatencyHistogram(), sendLag: new LatencyHistogram() };
    this.phases.push(phase);
    return phase;
  }

  private send(scheduledAt: number, at: number): void {
    const sender = this.lane.senders[this.order % 2] as Sender;
    const clientRandom = sender.nextClientRandom++;
    const entry: Pending = { sender, clientRandom, order: this.order++, scheduledAt, phase: this.phase };
    const key = `${sender.userId}/${clientRandom}`;
    this.pending.set(key, entry);
    this.awaitingDelivery.set(key, { scheduledAt, phase: this.phase });
    this.sent++;
    this.phase.sent++;
    this.phase.sendLag.record(at - scheduledAt);
    sender.socket.request(
      'msg.send',
      { conversation_id: this.conversationId, client_random: clientRandom, type: 'text', content: makeContent(sender.index, clientRandom, this.contentBytes) },
      (reply, replyAt) => this.onReply(key, entry, reply, replyAt),
    );
  }

  private onReply(key: string, entry: Pending, reply: ReplyFrame, at: number): void {
    this.pending.delete(key);
    const message = reply['message'] as { id?: unknown; seq?: unknown } | undefined;
    if (!reply.ok || typeof message?.id !== 'string' || typeof message.seq !== 'number') {
      const code = reply.ok ? 'malformed_reply' : (reply.error?.code ?? 'unknown');
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
      this.lane.failed.push({ senderId: entry.sender.userId, clientRandom: entry.clientRandom });
      this.awaitingDelivery.delete(key);
      this.timeline.addError(at);
      return;
    }
    entry.phase.acked++;
    entry.phase.ack.record(at - entry.scheduledAt);
    this.timeline.addAck(at);
    this.timeline.addAckLatency(at, at - entry.scheduledAt);
    this.ackedSeqs.push(message.seq);
    const last = this.lastSeqBySender.get(entry.sender.userId);
    if (last !== undefined && last.order < entry.order && last.seq >= message.seq) this.outOfOrder++;
    if (last === undefined || last.order < entry.order) this.lastSeqBySender.set(entry.sender.userId, { order: entry.order, seq: message.seq });
    this.lane.acked.push({ seq: message.seq, id: message.id, senderId: entry.sender.userId, senderIndex: entry.sender.index, clientRandom: entry.clientRandom });
  }

  private onEvent(receiverId: string, event: EventFrame, at: number): void {
    if (event.ev !== 'msg.new') return;
    const message = event['message'] as { conversation_id?: unknown; seq?: unknown; id?: unknown; sender_id?: unknown; client_random?: unknown } | undefined;
    if (message?.conversation_id !== this.conversationId || typeof message.seq !== 'number') return;
    const pairIds = this.sockets.map((s) => s.userId);
    if (typeof message.sender_id !== 'string' || !pairIds.includes(message.sender_id)) {
      if (typeof message.id === 'string') this.foreign.add(message.id);
      return;
    }
    if (message.sender_id === receiverId) return; // the sender's own copy
    this.deliveredTo.get(receiverId)?.add(message.seq);
    const key = `${message.sender_id}/${String(message.client_random)}`;
    const due = this.awaitingDelivery.get(key);
    if (due === undefined) return; // a repeat: delivery is at-least-once
    this.awaitingDelivery.delete(key);
    due.phase.deliver.record(at - due.scheduledAt);
    this.timeline.addDelivery(at);
  }

  /** Acked messages whose peer has not received them (yet). */
  private undelivered(): number {
    let missing = 0;
    for (const acked of this.lane.acked) {
      const peer = this.sockets.find((s) => s.userId !== acked.senderId);
      if (peer !== undefined && !this.deliveredTo.get(peer.userId)?.has(acked.seq)) missing++;
    }
    return missing;
  }
}
