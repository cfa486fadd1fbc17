/**
 * What crosses between the main thread (gateway) and a shard worker.
 *
 * main -> worker: a piscina task per shard per event-loop turn, carrying every
 * frame routed to that shard in the turn, as byte ranges of one transferred
 * ArrayBuffer. The main thread never decodes a frame: it reads its head
 * (protocol/frame-head.ts) and sends along the op and the key it routed on, and
 * the worker, which decodes, runs the frame only if both agree with what it
 * decoded. Nothing the client sent is ever structured-cloned.
 *
 * worker -> main: one OutboxMessage per worker turn on the worker's parentPort
 * (piscina re-emits it as the pool's 'message' event): encoded replies and
 * events, again as byte ranges of one transferred ArrayBuffer. Each event is
 * encoded once per wire encoding, never once per recipient.
 */
import type { Encoding, Limits, Op } from '@whispr/protocol';

/** Wire encoding of a frame: 0 = JSON text frame, 1 = MessagePack binary frame. */
export type Enc = 0 | 1;

export const encodingOf = (enc: Enc): Encoding => (enc === 1 ? 'msgpack' : 'json');

export interface ShardWorkerData {
  slot: string;
  nodeId: string;
  /** This run of the node (random per process start): presence records carry it. */
  incarnation: string;
  /** The live nodes, kept by the main thread (cluster-view.ts). */
  clusterView: SharedArrayBuffer;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  limits: Limits;
  logLevel: string;
  /** PostgreSQL connections for reads (the writers have their own). */
  pgPoolMax: number;
  /** Batch writers of the shard, each a connection committing its share of the conversations (store/writer-set.ts). */
  writers: number;
  /** Idle time after which an actor is evicted from memory. */
  actorIdleMs: number;
  /** Most live actors in the shard (least recently used evicted first). */
  maxActors: number;
  /**
   * Open connections per wire encoding on this node (Int32 [json, msgpack]),
   * kept by the gateway. An event is encoded only in the encodings in use.
   */
  encodingsInUse: SharedArrayBuffer;
  /**
   * The node's OwnershipLease (ownership-lease.ts), written by the main thread from
   * its membership: until when this shard may serve and claim its conversations,
   * and the generation of its ownership.
   */
  ownership: SharedArrayBuffer;
}

/** Index of each encoding in ShardWorkerData.encodingsInUse. */
export const ENCODING_COUNTER = { json: 0, msgpack: 1 } as const;

/**
 * Who a request runs as, set by the node that took it in and never read from the
 * frame: 'client', the user of a socket's verified token; 'internal', a user on
 * whose behalf code inside a node calls (a scheduled message is its sender's
 * msg.send); 'service', the service itself (admin rights on any conversation
 * without being a member; conversation ops only). Only the last two may set the
 * protocol's internal-only fields (protocol/requests.ts INTERNAL_ONLY_FIELDS).
 */
export type CallerKind = 'client' | 'internal' | 'service';

/**
 * The user id a 'service' request carries (frames and the bus carry a user id on
 * every request). Never a principal by itself: the gateway refuses a token with
 * this subject, and service rights come from CallerKind alone.
 */
export const SERVICE_PRINCIPAL_ID = '00000000-0000-0000-0000-000000000000';

interface FrameContext {
  /** Node-unique number of the request, the key of its reply. */
  serial: number;
  /** Connection id on the node (0: not from one of this node's sockets). */
  conn: number;
  /** Authenticated user (SERVICE_PRINCIPAL_ID for a 'service' request). */
  user: string;
  /** Who the request runs as. */
  caller: CallerKind;
  enc: Enc;
  /** The op the main thread read in the frame's head and routed for. */
  op: Op;
  /**
   * The key the main thread routed on: the conversation id of a conversation op,
   * the pair's derived id for conv.direct, a fresh id for conv.group, the user id
   * for conv.list and sync.
   */
  route: string;
}

export interface RawFrame extends FrameContext {
  off: number;
  len: number;
}

export interface ShardTask {
  buf: ArrayBuffer;
  raw: RawFrame[];
  /** A start-up task with no frames: resolves once the shard can reach PostgreSQL. */
  warm?: true;
}

/** Reply flags. */
/** The frame could not be decoded or was not an object (counts towards the 1008 close). */
export const REPLY_BAD_FRAME = 1;
/** The frame decoded to an object (resets that count). */
export const REPLY_GOOD_FRAME = 2;
/** Answered not_found for its conversation: charged to the sender's look-up budget (gateway rate-limiter). */
export const REPLY_NOT_FOUND = 4;

/** Numbers per reply in OutboxMessage.replies: serial, conn, enc, off, len, flags. */
export const REPLY_STRIDE = 6;

/** An event's bytes; an encoding no connection used when it was encoded has length 0. */
export interface EventOut {
  users: string[];
  jsonOff: number;
  jsonLen: number;
  mpOff: number;
  mpLen: number;
  /** For msg.new: lets the gateway skip an event it already sent from the offline queue. */
  conversationId: string | null;
  seq: number;
  /** Recipients connected to other nodes, per node (both encodings are then present). */
  remote: { node: string; users: string[] }[];
}

export interface OutboxMessage {
  type: 'outbox';
  buf: ArrayBuffer;
  /** Flattened, REPLY_STRIDE numbers per reply. */
  replies: number[];
  events: EventOut[];
}

export interface StatsMessage {
  type: 'stats';
  slot: string;
  actors: number;
  batches: number;
  messages: number;
  deliveryStatuses: number;
  receipts: number;
  failedBatches: number;
  /** Batch attempts refused by the ownership fence (another owner had claimed one of their conversations). */
  fencedBatches: number;
  /** Summed over the shard's writers. */
  commitMsTotal: number;
  writerQueued: number;
  writers: number;
  /** reply_to_id checks the actors' memory could not answer (a PostgreSQL look-up each: known-messages.ts). */
  replyLookups: number;
}

export type WorkerMessage = OutboxMessage | StatsMessage;

export const isWorkerMessage = (value: unknown): value is WorkerMessage =>
  typeof value === 'object' && value !== null && ((value as { type?: unknown }).type === 'outbox' || (value as { type?: unknown }).type === 'stats');
