/**
 * Collects what this node has for each other node during one event-loop turn and
 * hands the bus one payload per destination at the end of the turn (setImmediate),
 * so the bus's per-payload costs (an envelope, a PUBLISH, a wake-up on the far side)
 * are paid per turn, not per item (DESIGN.md: "batched per destination node per
 * event-loop turn").
 *
 * Bounded: a destination holds at most `maxItems` items and `maxBytes` bytes of
 * payload per turn; an item past that, or any item while the bus is down, is refused
 * synchronously (`add` → false) so the caller answers it `unavailable` at once.
 * Items are copied when added (a uWebSockets.js frame is only valid during its
 * callback). If the bus refuses a whole payload at flush time (its own bound on
 * what Redis has not acknowledged), `onRefused` gets the tags of every item in it.
 */
import type { Logger } from 'pino';
import type { Bus } from './bus.ts';
import { BATCH_COUNT_BYTES, DEFAULT_BATCH_LIMITS, ITEM_PREFIX_BYTES, type BatchLimits } from './bus-batch-format.ts';

export interface BusBatcherOptions<Tag> {
  bus: Pick<Bus, 'send' | 'connected' | 'maxPayloadBytes'>;
  logger: Logger;
  /** Items per destination per turn. Default 4,096. */
  maxItems?: number;
  /** Payload bytes per destination per turn (count and length prefixes included). Default 1 MiB, at most the bus's maxPayloadBytes. */
  maxBytes?: number;
  /** The bus refused a flushed payload, or found later that it was not delivered: these items (by their tags) are not on their way. */
  onRefused?: (toNode: string, tags: Tag[]) => void;
}

/** Most payloads are small: start there and grow by doubling. */
const INITIAL_BUFFER_BYTES = 4096;

interface PendingBatch<Tag> {
  buffer: Buffer;
  used: number;
  tags: Tag[];
}

/** The tag is required, unless the batcher's Tag type admits undefined (the default: no tags). */
type TagArgument<Tag> = undefined extends Tag ? [tag?: Tag] : [tag: Tag];

export class BusBatcher<Tag = undefined> {
  /** The limits a receiver should split this batcher's payloads with. */
  readonly limits: BatchLimits;
  /** For /metrics: payloads and items handed to the bus, items refused by `add` or with a refused payload. */
  readonly counts = { payloads: 0, items: 0, refusedItems: 0 };
  private readonly bus: BusBatcherOptions<Tag>['bus'];
  private readonly log: Logger;
  private readonly onRefused: ((toNode: string, tags: Tag[]) => void) | undefined;
  private pending = new Map<string, PendingBatch<Tag>>();
  private flushScheduled: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(options: BusBatcherOptions<Tag>) {
    const fail = (message: string): never => {
      throw new TypeError(`BusBatcher: ${message}`);
    };
    if (typeof options !== 'object' || options === null) fail('options must be an object');
    if (typeof options.bus?.send !== 'function') fail('options.bus must be a Bus');
    if (typeof options.logger?.child !== 'function') fail('options.logger must be a pino Logger');
    if (options.onRefused !== undefined && typeof options.onRefused !== 'function') fail('options.onRefused must be a function');
    const maxItems = options.maxItems ?? DEFAULT_BATCH_LIMITS.maxItems;
    const maxBytes = options.maxBytes ?? Math.min(DEFAULT_BATCH_LIMITS.maxBytes, options.bus.maxPayloadBytes);
    if (!Number.isSafeInteger(maxItems) || maxItems < 1) fail(`options.maxItems must be a positive integer, got ${String(maxItems)}`);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < BATCH_COUNT_BYTES + ITEM_PREFIX_BYTES) {
      fail(`options.maxBytes must be an integer of at least ${BATCH_COUNT_BYTES + ITEM_PREFIX_BYTES}, got ${String(maxBytes)}`);
    }
    if (maxBytes > options.bus.maxPayloadBytes) fail(`options.maxBytes must be at most the bus's maxPayloadBytes (${options.bus.maxPayloadBytes}), got ${maxBytes}`);
    this.limits = { maxItems, maxBytes };
    this.bus = options.bus;
    this.log = options.logger.child({ component: 'bus-batcher' });
    this.onRefused = options.onRefused;
  }

  /**
   * Queues `item` for `toNode` in this turn's payload. False, and nothing queued, when
   * the bus is down, the batcher is closed, or the destination's batch for this turn is full.
   */
  add(toNode: string, item: Uint8Array, ...[tag]: TagArgument<Tag>): boolean {
    let batch = this.pending.get(toNode);
    const needed = ITEM_PREFIX_BYTES + item.length;
    const used = batch?.used ?? BATCH_COUNT_BYTES;
    const full = used + needed > this.limits.maxBytes || (batch?.tags.length ?? 0) >= this.limits.maxItems;
    if (full || this.closed || !this.bus.connected) {
      this.counts.refusedItems++;
      return false;
    }
    if (batch === undefined) {
      batch = { buffer: Buffer.allocUnsafe(Math.max(INITIAL_BUFFER_BYTES, used + needed)), used, tags: [] };
      this.pending.set(toNode, batch);
    } else if (batch.buffer.length < used + needed) {
      const grown = Buffer.allocUnsafe(Math.min(this.limits.maxBytes, Math.max(batch.buffer.length * 2, used + needed)));
      batch.buffer.copy(grown, 0, 0, batch.used);
      batch.buffer = grown;
    }
    batch.buffer.writeUInt32BE(item.length, batch.used);
    batch.buffer.set(item, batch.used + ITEM_PREFIX_BYTES);
    batch.used += needed;
    // TagArgument makes the tag optional only when Tag admits undefined, so this is a Tag.
    batch.tags.push(tag as Tag);
    this.flushScheduled ??= setImmediate(() => this.flush());
    return true;
  }

  /** Sends every destination's batch now (normally called at the end of the turn). */
  flush(): void {
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    const batches = this.pending;
    this.pending = new Map();
    for (const [toNode, batch] of batches) {
      batch.buffer.writeUInt32BE(batch.tags.length, 0);
      // A payload the bus later finds undelivered (nobody listening, the publish failed) is refused too.
      if (this.bus.send(toNode, batch.buffer.subarray(0, batch.used), () => this.refused(toNode, batch.tags))) {
        this.counts.payloads++;
        this.counts.items += batch.tags.length;
        continue;
      }
      this.counts.refusedItems += batch.tags.length;
      this.log.debug({ toNode, items: batch.tags.length }, 'the bus refused a batch');
      this.refused(toNode, batch.tags);
    }
  }

  /** Sends what is pending and refuses everything after. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private refused(toNode: string, tags: Tag[]): void {
    if (this.onRefused === undefined) return;
    try {
      this.onRefused(toNode, tags);
    } catch (err) {
      // It runs from a setImmediate: an exception here would be uncaught and end the process.
      this.log.error({ err, toNode }, 'BusBatcher onRefused threw');
    }
  }
}
