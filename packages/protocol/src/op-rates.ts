/**
 * Every operation's rate class (PROTOCOL.md §3, `rate_limited`): each user has,
 * on each node, one token bucket per class, and a request takes one token of its
 * op's class when it is routed. Classes keep a flood of one kind (typing,
 * receipts, reads) from starving another (sends), and price each by what it
 * costs the service: a `write` is a PostgreSQL transaction of its own, a `read`
 * at most a query, `typing` a Redis write and events, a `receipt` joins a batch.
 *
 * The send class is configured on its own (Limits.send_rate_per_s /
 * send_burst); the others have these defaults, scaled together by the node's
 * WHISPR_OP_RATE_SCALE, and are announced in hello (`limits.op_rates`).
 */
import type { Op } from './requests.ts';

export type RateClass = 'send' | 'write' | 'read' | 'typing' | 'receipt';

export interface Rate {
  per_s: number;
  burst: number;
}

/** The classes besides `send`, with their default rates. */
export type FixedRateClass = Exclude<RateClass, 'send'>;

export const OP_RATES: Readonly<Record<FixedRateClass, Readonly<Rate>>> = Object.freeze({
  // Membership, settings, edits, deletes, reactions, pins: each one transaction.
  write: Object.freeze({ per_s: 20, burst: 100 }),
  // History pages, gets, lists, sync, watches: a client catching up after a
  // reconnect pages through many conversations at once, hence the burst.
  read: Object.freeze({ per_s: 50, burst: 300 }),
  // A client repeats `start` every few seconds while the user types.
  typing: Object.freeze({ per_s: 5, burst: 20 }),
  // One per message received at most, usually far fewer.
  receipt: Object.freeze({ per_s: 50, burst: 200 }),
});

/** The rate class of every op; a new op without one is a type error. */
export const OP_RATE_CLASS: { readonly [O in Op]: RateClass } = Object.freeze({
  ping: 'read',
  'conv.direct': 'write',
  'conv.group': 'write',
  'conv.get': 'read',
  'conv.list': 'read',
  'conv.update': 'write',
  'conv.settings.get': 'read',
  'conv.settings.set': 'write',
  'member.settings.set': 'write',
  'conv.members.add': 'write',
  'conv.members.remove': 'write',
  'conv.leave': 'write',
  'msg.send': 'send',
  'msg.edit': 'write',
  'msg.delete': 'write',
  'msg.react': 'write',
  'msg.unreact': 'write',
  'msg.pin': 'write',
  'msg.unpin': 'write',
  'conv.pins': 'read',
  'msg.history': 'read',
  'msg.get': 'read',
  'msg.receipts': 'read',
  'receipt.delivered': 'receipt',
  'receipt.read': 'receipt',
  typing: 'typing',
  'presence.watch': 'read',
  'presence.unwatch': 'read',
  'sched.create': 'write',
  'sched.cancel': 'write',
  'sched.list': 'read',
  sync: 'read',
  // Internal only (refused from sockets; internal calls are not charged): listed for completeness.
  'internal.blocks.changed': 'write',
  'retention.expire': 'write',
  'conv.archive': 'write',
});
