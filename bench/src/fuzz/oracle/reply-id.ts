/**
 * Request ids and the `re` they come back as. Every fuzzed frame carries a
 * tracking number T, unique in the run, in whatever form its mutation chose: the
 * integer T (or −T, or T as a float), or a string starting `f<T>` (with a NUL, a
 * lone surrogate or bytes that are not UTF-8 after it). A reply's `re` maps back
 * to T whatever the node did to the rest of the string; `null` is the answer to
 * a frame whose id could not be read. Decoy ids nested inside frames are at least
 * 2^40, so a reply that echoes one is recognised as answering nobody.
 */

/** Tracking numbers stay below this; decoys are above. */
export const DECOY_ID_BASE = 2 ** 40;

/** What `re` a frame may come back with: its tracking number, null, or either. */
export type ReplyIdExpectation = 'id' | 'null' | 'either';

/** T for a `re`, `null` for `re: null`, or `foreign` for anything that names no fuzzed frame. */
export function trackingOf(re: unknown): number | null | 'foreign' {
  if (re === null) return null;
  if (typeof re === 'number') return Number.isInteger(re) && Math.abs(re) < DECOY_ID_BASE ? Math.abs(re) : 'foreign';
  if (typeof re === 'string') {
    const match = /^f(\d{1,13})/.exec(re);
    return match?.[1] === undefined ? 'foreign' : Number(match[1]);
  }
  return 'foreign';
}
