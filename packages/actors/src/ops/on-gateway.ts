/**
 * Ops the connection's own node answers without a shard (presence.watch and
 * presence.unwatch: watches belong to the connection, gateway/src/presence.ts).
 * Their entry in the table keeps it complete; a frame of theirs reaching a
 * shard means it was routed wrongly, and is refused rather than run.
 */
import { badRequest, type Op } from '@whispr/protocol';
import type { UserOp } from './op.ts';

export function answeredByGateway<O extends Op>(op: O): UserOp<O> {
  return { scope: 'user', run: () => Promise.reject(badRequest('op', `${op} is answered by the connection's node, not routed`)) };
}
