/**
 * A shard: the home of a set of conversation actors (DESIGN.md "Hot path"). The
 * gateway hands it the frames routed to it and hears back replies and events;
 * where the actors run is the implementation's business:
 *
 * - ThreadShard (shard-thread.ts): a worker thread of its own. The default, one
 *   per core, so frames are decoded, validated and committed beside the thread
 *   that serves the sockets.
 * - InlineShard (shard-inline.ts): the node's main thread (WHISPR_WORKERS=0). On
 *   a small host that PostgreSQL shares, handing every frame to another thread and
 *   back costs more than it buys: two thread wake-ups per request and two copies.
 *
 * Both speak the same task and outbox formats (shard-contract.ts), so the gateway
 * cannot tell them apart.
 */
import type { EventEmitter } from 'node:events';
import type { OutboxMessage, RawFrame, StatsMessage } from './shard-contract.ts';

export interface ShardEvents {
  outbox: [OutboxMessage];
  stats: [StatsMessage];
  /** These frames will get no reply from the shard (its thread died, or it is closed). */
  failed: [serials: number[], error: Error];
}

export interface Shard extends EventEmitter<ShardEvents> {
  /** The ring slot this shard owns (`<node id>#<index>`). */
  readonly slot: string;
  /** Queues a raw frame; its bytes are copied now (the caller's buffer is transient) and `frame.off`/`frame.len` set to where they went. */
  pushRaw(frame: RawFrame, bytes: Uint8Array): void;
  /** Resolves once the shard runs and reaches PostgreSQL (a worker thread takes a moment to load). */
  ready(): Promise<void>;
  /** Finishes the work handed over so far (commits included), then releases the shard's resources. */
  close(): Promise<void>;
}
