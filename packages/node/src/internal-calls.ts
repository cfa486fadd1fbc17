/**
 * Internal calls: code inside a node (a BullMQ processor, the gRPC API) runs an
 * operation of the protocol through the conversation's owner, whichever node
 * that is, and gets its reply as a promise typed by op.
 *
 * What routes is what runs: the request is encoded as a MessagePack frame and
 * handed to the gateway's frame router (gateway/frame-router.ts `internal`),
 * which scans its head, routes it on the same key a client's frame would use,
 * keeps the same bounds (the owner's shard or peer, the forward timeout answered
 * `unavailable`) and hands it to the same dispatch table (actors/ops/index.ts).
 * Only two things differ from a client's frame: who it runs as, written by this
 * node and never read from the frame (a user on whose behalf the node acts, or
 * the service itself), and its answer, which comes here instead of a socket.
 *
 * It lives in the node, not in the gateway or the cluster: it is the composition
 * of both (the router's routing, the bus's forwarding) offered to the node's own
 * components, which get it from RunningNode.internal.
 */
import { SERVICE_PRINCIPAL_ID } from '@whispr/actors';
import type { Gateway } from '@whispr/gateway';
import {
  ErrorCode, WhisprError, badRequest, decodeFrame, encodeFrame, isPlainObject, isUuid,
  type ErrorBody, type Op, type RequestOf, type ResultMap,
} from '@whispr/protocol';

/** Who an internal call runs as: a user (with that user's rights, as a member), or the service (admin rights on any conversation, conversation ops only). */
export type Principal = { kind: 'user'; userId: string } | { kind: 'service' };

/** A request as an internal caller writes it: the op's fields without the frame's id (each call numbers its own). */
export type InternalRequest<O extends Op> = Omit<RequestOf<O>, 'id'> & { op: O };

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

export class InternalCalls {
  private nextId = 0;

  constructor(private readonly gateway: Pick<Gateway, 'internal'>) {}

  /**
   * Runs `request` as `principal` on its owner. Resolves with the op's result
   * after the owner's commit, or rejects with the WhisprError the owner (or the
   * router: `unavailable`, `rate_limited`) answered, exactly as a client would
   * have been answered.
   */
  call<O extends Op>(principal: Principal, request: InternalRequest<O>): Promise<ResultMap[O]> {
    if (principal.kind === 'user' && (!isUuid(principal.userId) || principal.userId === SERVICE_PRINCIPAL_ID)) {
      return Promise.reject(badRequest('user_id', 'an internal call’s user must be a lowercase hyphenated UUID of a user'));
    }
    const id = ++this.nextId;
    const bytes = encodeFrame({ ...request, id }, 'msgpack');
    return new Promise<ResultMap[O]>((resolve, reject) => {
      const answer = (outcome: { flags: number; bytes: Uint8Array } | WhisprError): void => {
        if (outcome instanceof WhisprError) reject(outcome);
        else readReply<O>(outcome.bytes, resolve, reject);
      };
      if (principal.kind === 'service') this.gateway.internal('service', SERVICE_PRINCIPAL_ID, bytes, answer);
      else this.gateway.internal('internal', principal.userId, bytes, answer);
    });
  }
}

/** Decodes the owner's reply now (its bytes are valid only during the callback) into a result or a WhisprError. */
function readReply<O extends Op>(bytes: Uint8Array, resolve: (result: ResultMap[O]) => void, reject: (err: WhisprError) => void): void {
  let reply: unknown;
  try {
    reply = decodeFrame(bytes, 'msgpack');
  } catch (err) {
    reject(new WhisprError(ErrorCode.Internal, 'the owner’s reply could not be decoded', {}, { cause: err }));
    return;
  }
  if (!isPlainObject(reply)) {
    reject(new WhisprError(ErrorCode.Internal, 'the owner’s reply is not an object'));
    return;
  }
  const { re: _re, ok, error, ...result } = reply;
  if (ok === true) {
    // The reply was encoded by this service's own dispatcher from the op's ResultMap entry.
    resolve(result as ResultMap[O]);
    return;
  }
  reject(errorOf(error));
}

const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && ERROR_CODES.has(value);

function errorOf(error: unknown): WhisprError {
  if (!isPlainObject(error) || !isErrorCode(error.code) || typeof error.message !== 'string') {
    return new WhisprError(ErrorCode.Internal, 'the owner answered with a malformed error');
  }
  const details: Omit<ErrorBody, 'code' | 'message'> = {};
  if (typeof error.retry_after_ms === 'number') details.retry_after_ms = error.retry_after_ms;
  if (typeof error.field === 'string') details.field = error.field;
  return new WhisprError(error.code, error.message, details);
}
