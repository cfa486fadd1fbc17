/**
 * What the gateway needs from the cluster: who owns a routing key, and a link to
 * the other nodes. The cluster package implements both (the hash ring over every
 * node's slots, and the node-to-node bus); the gateway never knows how.
 */
import type { CallerKind, Shard } from '@whispr/actors';
import type { PresenceChange } from '@whispr/store';

/** Who owns a key: one of this node's shards, or another node. */
export type Owner = { kind: 'local'; shard: Shard } | { kind: 'remote'; node: string };

export interface ShardRouting {
  /** The owner of `key`; null while no owner is known, or while this node does not serve (lease lapsed). */
  ownerOf(key: string): Owner | null;
  /** Every local shard. */
  readonly shards: readonly Shard[];
}

/** A request handed to its owner on another node: the frame's bytes, never decoded here. */
export interface ForwardedRequest {
  /** The origin node's serial of the request, the key of its reply. */
  serial: number;
  user: string;
  /** Who it runs as: set by the origin node (a socket's token, or an internal call), never read from the frame. */
  caller: CallerKind;
  enc: 0 | 1;
  op: string;
  route: string;
  bytes: Uint8Array;
}

/** The owner's answer to a forwarded request; `bytes` null: it could not run there (answer `unavailable`). */
export interface ForwardedReply {
  serial: number;
  /** Reply flags of the shard contract (bad frame, good frame, not found). */
  flags: number;
  bytes: Uint8Array | null;
}

/** An event for users connected to the receiving node, in both encodings. */
export interface ForwardedEvent {
  users: string[];
  json: Uint8Array;
  mp: Uint8Array;
  conversationId: string | null;
  seq: number;
}

export interface PeerHandlers {
  request(from: string, request: ForwardedRequest): void;
  reply(from: string, reply: ForwardedReply): void;
  event(from: string, event: ForwardedEvent): void;
  /** A user's presence turned; for this node's connections that watch them. */
  presence(from: string, change: PresenceChange): void;
}

/**
 * Node-to-node traffic. Each method queues one item for the node; the link
 * sends one batch per destination per event-loop turn. False: not taken (the
 * link is down or that destination is over its bound), the caller answers
 * `unavailable` (a lost event is recovered by the client's sync).
 */
export interface PeerLink {
  forward(node: string, request: ForwardedRequest): boolean;
  reply(node: string, reply: ForwardedReply): boolean;
  event(node: string, event: ForwardedEvent): boolean;
  /** A presence change for the node's connections that watch the user (a watcher node, store/presence.ts). */
  presence(node: string, change: PresenceChange): boolean;
  /** Where what arrives from other nodes goes; set once by the gateway. */
  attach(handlers: PeerHandlers): void;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}
