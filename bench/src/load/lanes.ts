/**
 * The units the load loops drive. A Sender is one user's connection that sends;
 * a Lane is one conversation with the senders that take turns in it and the
 * number of deliveries each of its messages should produce.
 */
import type { BenchSocket } from '../wire/bench-socket.ts';

export interface AckedMessage {
  seq: number;
  id: string;
  senderId: string;
  senderIndex: number;
  clientRandom: number;
}

export interface Sender {
  index: number;
  userId: string;
  socket: BenchSocket;
  nextClientRandom: number;
  /** Sends awaiting their ack or their deliveries, by client_random. */
  readonly open: Map<number, SendRecord>;
}

export interface Lane {
  conversationId: string;
  senders: Sender[];
  /** Recipient connections (other than the sender's) that should get each message. */
  deliveriesPerMessage: number;
  nextSender: number;
  inFlight: number;
  readonly acked: AckedMessage[];
  /** client_randoms that got an error reply, per sender index (verification checks none was stored). */
  readonly failed: Array<{ senderId: string; clientRandom: number }>;
}

export interface SendRecord {
  lane: Lane;
  sender: Sender;
  clientRandom: number;
  /** When the send was due (open loop) or made (closed loop): latency starts here. */
  intendedAt: number;
  measured: boolean;
  acked: boolean;
  deliveriesLeft: number;
}

export function newSender(index: number, socket: BenchSocket): Sender {
  return { index, userId: socket.userId, socket, nextClientRandom: 1, open: new Map() };
}

export function newLane(conversationId: string, senders: Sender[], deliveriesPerMessage: number): Lane {
  return { conversationId, senders, deliveriesPerMessage, nextSender: 0, inFlight: 0, acked: [], failed: [] };
}
