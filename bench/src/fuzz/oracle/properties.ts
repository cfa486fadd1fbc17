/**
 * Every property the oracle checks, by the name violations are recorded under,
 * with the rule it comes from. The test asserts each one separately, so a
 * failing run says which rule broke.
 */
export const PROPERTIES = {
  'node-exited': 'the node process never exits or restarts during the run',
  'node-unhealthy': 'the node answers /healthz 200 after the run',
  'internal-reply': 'no reply is internal (PROTOCOL.md §3: internal is for what no other code covers)',
  'unavailable-reply': 'a single node owns every conversation and nothing moves: no reply is unavailable (PROTOCOL.md §3: the owner cannot be reached)',
  'undocumented-error-code': 'every error code is one of PROTOCOL.md §3',
  'malformed-server-frame': 'every frame from the node decodes and is a reply {re, ok, …} or an event {ev, …}',
  'unexpected-outcome': 'each frame gets the answer PROTOCOL.md gives it (repeated keys and unknown ops bad_request, non-members forbidden, unknown ids not_found, decoys ignored)',
  'no-reply': 'every request read gets a reply (PROTOCOL.md §3: exactly one; before any close)',
  'extra-reply': 'no request gets more than one reply',
  'reply-without-id': 'a request whose id the node can read is answered with that id, never re: null',
  'reply-names-no-request': 'a reply\'s re is its request\'s id, never a value nested inside the request',
  'reply-with-wrong-id': 'a reply\'s re is exactly its request\'s id',
  'reply-in-other-encoding': 'a reply uses the encoding of its request (PROTOCOL.md §2)',
  'undocumented-close': 'connections close only with documented codes (1000, 1001, 1007, 1008, 1009, 4001, 4008)',
  'wrong-close-code': 'a frame over max_frame_bytes closes with 1009, a text frame that is not UTF-8 with 1007, 20 undecodable frames with 1008',
  'unexplained-close': 'the node closes with 1007, 1008 or 1009 only when a frame called for it',
  'missing-close': 'a frame that must close the connection does',
  'pair-broken': 'a well-behaved pair chatting on the same node throughout: every send acked and delivered, seqs 1..N in order, nothing lost, doubled or foreign',
} as const;

export type Property = keyof typeof PROPERTIES;
