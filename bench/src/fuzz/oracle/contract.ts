/**
 * What PROTOCOL.md §3 allows a node to say, as data: the error codes, the close
 * codes, and what a request may get back whatever it is (the node is busy, or the
 * conversation is moving). The oracle judges every reply and close against these.
 */

export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A reply's outcome: `ok`, or its error code. */
export type Outcome = 'ok' | ErrorCode;

export const isErrorCode = (value: unknown): value is ErrorCode => ERROR_CODES.includes(value as ErrorCode);

/** Close codes a node may send (PROTOCOL.md §3 and docs/protocol.md §5). */
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1007, 1008, 1009, 4001, 4008]);

/** Outcomes any request may get, whatever it asks: over the rate or in-flight bound, owner unreachable. */
export const TRANSIENT_OUTCOMES: readonly Outcome[] = ['rate_limited', 'unavailable'];

/** Consecutive frames that cannot be decoded or are not objects before the node closes with 1008. */
export const BAD_FRAMES_BEFORE_1008 = 20;
