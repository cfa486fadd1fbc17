/**
 * Values the node refuses wherever they stand (docs/protocol.md §2: what the
 * database could not store unchanged): a NUL character, a lone UTF-16 surrogate,
 * a number that is not finite, and in MessagePack a str that is not UTF-8 and an
 * integer beyond ±2^53; and the key `__proto__`. A frame holding one, in any key or value, known field or
 * not, is answered bad_request.
 */
import { isUtf8 } from 'node:buffer';
import { Unpackr } from 'msgpackr';
import type { FrameNode } from './frame-node.ts';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const refusedText = (s: string): boolean => s.includes('\u0000') || LONE_SURROGATE.test(s);

/** Whether any string of a decoded value is refused (iterative: the value may be nested deep). */
function anyRefused(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (refusedText(v)) return true;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const [k, item] of Object.entries(v)) {
        if (refusedText(k) || k === '__proto__') return true;
        stack.push(item);
      }
    }
  }
  return false;
}

/** What a MessagePack decoder would change without a word: a str that is not UTF-8 (U+FFFD), an integer past 2^53 (rounded), a float that is not finite. */
function hasBadUtf8(node: FrameNode): boolean {
  switch (node.t) {
    case 'utf8':
      return !isUtf8(node.bytes);
    case 'bigint': {
      // Past 2^53 but within 64 bits: written as an int64 (a larger one is written as a float).
      const fitsInt64 = node.v >= -(2n ** 63n) && node.v < 2n ** 64n;
      return fitsInt64 && (node.v > BigInt(Number.MAX_SAFE_INTEGER) || node.v < BigInt(Number.MIN_SAFE_INTEGER));
    }
    case 'num':
      // An integer past 2^53 written as a 64-bit integer (one too large for that is written as a float).
      return !Number.isFinite(node.v) || ((node.width === 'i64' || node.width === 'u64') && Number.isInteger(node.v) && !Number.isSafeInteger(node.v) && node.v >= -(2 ** 63) && node.v < 2 ** 64);
    case 'nest':
      return hasBadUtf8(node.leaf);
    case 'repeat':
      return hasBadUtf8(node.item);
    case 'arr':
      return node.items.some(hasBadUtf8);
    case 'map':
      // msgpackr renames a `__proto__` key: only the tree still shows it.
      return node.entries.some(([k, v]) => (k.t === 'str' && k.v === '__proto__') || hasBadUtf8(k) || hasBadUtf8(v));
    default:
      return false;
  }
}

/** Whether the frame, as encoded, holds a value the node refuses. False when it does not decode at all. */
export function holdsRefusedValue(bytes: Buffer, binary: boolean, tree: FrameNode): boolean {
  if (binary && hasBadUtf8(tree)) return true;
  let decoded: unknown;
  try {
    decoded = binary ? unpackr.unpack(bytes) : JSON.parse(bytes.toString('utf8'));
  } catch {
    // Not decodable (or nested past the decoder's stack): answered as such, not for its strings.
    return false;
  }
  return anyRefused(decoded);
}
