/**
 * Consistent hashing over worker slots ("node#index"). Every node builds the same
 * ring from the same registry, so all agree on each conversation's owner; when a
 * slot joins or leaves, only the keys next to its points move.
 */

/** Points per slot: enough for an even spread over a handful of slots. */
const DEFAULT_POINTS_PER_SLOT = 128;

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche so nearby keys spread. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  readonly slots: readonly string[];
  private readonly points: Uint32Array;
  private readonly owners: string[];

  constructor(slots: Iterable<string>, pointsPerSlot = DEFAULT_POINTS_PER_SLOT) {
    if (!Number.isInteger(pointsPerSlot) || pointsPerSlot < 1) throw new TypeError(`HashRing pointsPerSlot must be a positive integer, got ${pointsPerSlot}`);
    this.slots = [...new Set(slots)].sort();
    const entries: [number, string][] = [];
    for (const slot of this.slots) for (let i = 0; i < pointsPerSlot; i++) entries.push([hash32(`${slot}/${i}`), slot]);
    // Ties broken by slot name so every node orders the ring identically.
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.points = Uint32Array.from(entries.map((e) => e[0]));
    this.owners = entries.map((e) => e[1]);
  }

  get size(): number {
    return this.slots.length;
  }

  /** The slot owning `key`, or null for an empty ring. */
  ownerOf(key: string): string | null {
    const n = this.points.length;
    if (n === 0) return null;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo] ?? null;
  }

  /** Same slots, same ring. */
  sameAs(other: HashRing): boolean {
    return this.slots.length === other.slots.length && this.slots.every((s, i) => s === other.slots[i]);
  }
}

export const slotId = (nodeId: string, index: number): string => `${nodeId}#${index}`;
