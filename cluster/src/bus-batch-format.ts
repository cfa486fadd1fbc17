/**
 * The payload a BusBatcher sends: the items one node has for another in one
 * event-loop turn, length-prefixed so the receiver gets back exactly the items
 * that were added, in order. The items themselves are opaque here.
 *
 *   u32 BE  item count N (≥ 1)
 *   N × ( u32 BE item length, item bytes )
 *
 * The count up front makes a payload cut at an item boundary detectable, and the
 * splitter is strict: one inconsistency rejects the whole payload, so a receiver
 * never acts on part of a damaged batch.
 */

export const BATCH_COUNT_BYTES = 4;
export const ITEM_PREFIX_BYTES = 4;

export interface BatchLimits {
  /** Most items one payload may hold. */
  maxItems: number;
  /** Longest payload accepted (count and prefixes included). */
  maxBytes: number;
}

/** What a BusBatcher with default options sends; a receiver splits with the limits its peers batch with. */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxItems: 4096, maxBytes: 1024 * 1024 };

export type BatchError = 'empty' | 'truncated' | 'too_many_items' | 'oversized' | 'trailing_bytes';

/** Bytes a batch of these item lengths takes. */
export const batchBytes = (itemLengths: readonly number[]): number =>
  itemLengths.reduce((sum, length) => sum + ITEM_PREFIX_BYTES + length, BATCH_COUNT_BYTES);

/** Encodes items as one batch payload (the batcher builds its payloads incrementally; this is for tests and tools). */
export function encodeBatch(items: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(batchBytes(items.map((item) => item.length)));
  out.writeUInt32BE(items.length, 0);
  let offset = BATCH_COUNT_BYTES;
  for (const item of items) {
    out.writeUInt32BE(item.length, offset);
    out.set(item, offset + ITEM_PREFIX_BYTES);
    offset += ITEM_PREFIX_BYTES + item.length;
  }
  return out;
}

/** The items of a batch payload (views of `payload`, not copies), or why it is rejected as a whole. */
export function splitBatch(payload: Buffer, limits: BatchLimits): Buffer[] | BatchError {
  if (payload.length > limits.maxBytes) return 'oversized';
  if (payload.length < BATCH_COUNT_BYTES) return 'truncated';
  const count = payload.readUInt32BE(0);
  if (count === 0) return 'empty';
  if (count > limits.maxItems) return 'too_many_items';
  // Checked before anything is allocated for the items: a lying count costs nothing.
  if (payload.length < BATCH_COUNT_BYTES + count * ITEM_PREFIX_BYTES) return 'truncated';
  const items: Buffer[] = new Array<Buffer>(count);
  let offset = BATCH_COUNT_BYTES;
  for (let i = 0; i < count; i++) {
    if (payload.length - offset < ITEM_PREFIX_BYTES) return 'truncated';
    const length = payload.readUInt32BE(offset);
    const start = offset + ITEM_PREFIX_BYTES;
    if (payload.length - start < length) return 'truncated';
    items[i] = payload.subarray(start, start + length);
    offset = start + length;
  }
  return offset === payload.length ? items : 'trailing_bytes';
}
