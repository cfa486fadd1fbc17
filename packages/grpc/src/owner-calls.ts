/**
 * What the gRPC API needs from the node: running an op of the protocol through
 * the conversation's owner, on any node (the node's InternalCalls,
 * packages/node/src/internal-calls.ts, is one). Stated here as an interface so
 * this package does not depend on the node that starts it.
 */
import type { Op, RequestOf, ResultMap } from '@whispr/protocol';

/** A user on whose behalf the call runs (that user's rights), or the service itself (admin rights on any existing conversation, conversation ops only). */
export type Principal = { kind: 'user'; userId: string } | { kind: 'service' };

/** A request without the frame's id (each call numbers its own). */
export type OwnerRequest<O extends Op> = Omit<RequestOf<O>, 'id'> & { op: O };

export interface OwnerCalls {
  /** Resolves with the op's result after the owner's commit; rejects with the WhisprError the owner or the router answered. */
  call<O extends Op>(principal: Principal, request: OwnerRequest<O>): Promise<ResultMap[O]>;
}
