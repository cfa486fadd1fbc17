/**
 * The node-to-node bus: how one node hands bytes to another (DESIGN.md, "The
 * cluster"). It is a transport and nothing more: it moves one opaque payload at
 * a time from this node to a named node, and says what it could not move.
 *
 * The contract every implementation keeps (cluster/test/bus-conformance.test.ts
 * runs it against each one):
 *
 * - **At most once, in order per sender.** Payloads from one sender arrive in the
 *   order they were sent, byte for byte, or not at all. Loss is allowed by design
 *   (a forwarded request that gets no reply times out into `unavailable` and is
 *   retried idempotently; a missed event leaves a seq gap the client closes with
 *   `sync`), but never silent: every payload the bus knows it lost is counted in
 *   {@link BusStats}, and the receiver counts the sequence gaps it sees.
 * - **Never blocks, never throws into the node.** `send` answers at once; a
 *   refusal is `false`, counted. What arrives is not trusted: bytes that are not a
 *   well-formed envelope of this bus are dropped, counted and logged (throttled).
 * - **Recovers by itself.** After any loss of its Redis connections (a blip, a
 *   failover, a restart that lost every key) the bus reconnects and re-subscribes
 *   on its own, then emits `up` and `reconnected`: the node's cue to re-register
 *   and re-announce what Redis may have forgotten.
 *
 * The caller batches: one `send` per destination per event-loop turn (see
 * BusBatcher), so the bus's per-payload costs are paid once per turn.
 */
import type { EventEmitter } from 'node:events';

/** Why a payload was not delivered, as counted in {@link BusStats.dropped}. */
export type BusDropReason =
  /** `send` while the bus is down (not started, reconnecting, closed). */
  | 'not_connected'
  /** `send` while the link to Redis holds its bound of unacknowledged messages or bytes. */
  | 'over_bound'
  /** `send` of a payload longer than `maxPayloadBytes`. */
  | 'too_large'
  /** Published, but no node was listening on that inbox (unknown, dead or reconnecting node). */
  | 'unheard'
  /** Published, but the command failed or was cut off when the connection dropped. */
  | 'failed'
  /** Received bytes that are not an envelope of this bus (wrong magic or version, truncated, bad sender, oversized). */
  | 'malformed';

export const BUS_DROP_REASONS: readonly BusDropReason[] = ['not_connected', 'over_bound', 'too_large', 'unheard', 'failed', 'malformed'];

export interface BusEvents {
  /** A payload from `from`, exactly the bytes it sent. The Buffer may be a view of a larger read buffer: copy it to keep it long. */
  message: [from: string, payload: Buffer];
  /** The bus can send and receive (both directions subscribed and writable). */
  up: [];
  /** The bus lost Redis; `send` returns false until `up`. */
  down: [reason: string];
  /**
   * Emitted right after every `up` except the first: Redis was gone for a while, perhaps
   * restarted with every key lost. Re-register, re-announce; assume anything in flight is lost.
   */
  reconnected: [];
}

/** Messages and bytes (payload bytes, not envelopes) exchanged with one peer node. */
export interface BusLinkCounters {
  messages: number;
  bytes: number;
}

export interface BusReceiveCounters extends BusLinkCounters {
  /** Payloads from this peer that never arrived, seen as holes in its sequence numbers. */
  gaps: number;
}

/** Live, read-only counters for /metrics. */
export interface BusStats {
  /** Per destination node: payloads handed to Redis (including those later counted `unheard` or `failed`). */
  readonly sent: ReadonlyMap<string, Readonly<BusLinkCounters>>;
  /** Per sender node: payloads delivered to the `message` listeners. */
  readonly received: ReadonlyMap<string, Readonly<BusReceiveCounters>>;
  readonly dropped: Readonly<Record<BusDropReason, number>>;
  /** Handed to Redis and not yet acknowledged by it (the quantity `send`'s bound applies to). */
  readonly unacked: Readonly<BusLinkCounters>;
  /** `message` listeners that threw (caught and logged: a listener's bug must not break the transport). */
  readonly listenerErrors: number;
}

export interface Bus extends EventEmitter<BusEvents> {
  /** The node this bus receives for. */
  readonly nodeId: string;
  /** The longest payload `send` accepts. */
  readonly maxPayloadBytes: number;
  /** True between `up` and `down`: `send` may succeed. */
  readonly connected: boolean;
  readonly stats: BusStats;

  /** Connects and subscribes to this node's inbox; resolves once subscribed (the first `up`). */
  start(): Promise<void>;

  /**
   * Hands one payload to the transport for `toNode`; never blocks. False (and counted)
   * when the bus is down, over its bound, or the payload is too large: the caller then
   * answers what the payload carried `unavailable`. The bus is done with `payload` when
   * this returns (it may be reused). True means "on its way", not "delivered";
   * `onLost` is called later if the bus learns it was not delivered after all
   * (nobody was listening on that inbox, or the publish failed), so what it carried
   * can be answered at once instead of at its timeout.
   */
  send(toNode: string, payload: Uint8Array, onLost?: (reason: 'unheard' | 'failed') => void): boolean;

  /** Stops delivery at once (no `message` after this is called), then closes the connections. */
  close(): Promise<void>;
}
