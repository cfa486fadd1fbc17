/**
 * The one table from the protocol's error codes (PROTOCOL.md §3) to gRPC status
 * codes. Every error a call answers goes through `toStatus`: a WhisprError keeps
 * its message (it names the field for a bad one), anything else is INTERNAL with
 * a generic message and is logged, since it is a bug or an outage, not the
 * caller's doing.
 */
import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ErrorCode, WhisprError } from '@whispr/protocol';

export const STATUS_OF_ERROR: Readonly<Record<ErrorCode, status>> = {
  [ErrorCode.BadRequest]: status.INVALID_ARGUMENT,
  [ErrorCode.TooLarge]: status.INVALID_ARGUMENT,
  [ErrorCode.Unauthorized]: status.UNAUTHENTICATED,
  [ErrorCode.Forbidden]: status.PERMISSION_DENIED,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.Conflict]: status.ALREADY_EXISTS,
  [ErrorCode.RateLimited]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.Internal]: status.INTERNAL,
};

/** Trailing metadata of RESOURCE_EXHAUSTED: when to retry, in ms (the protocol's retry_after_ms). */
export const RETRY_AFTER_KEY = 'retry-after-ms';

export function toStatus(err: unknown, logger: Logger, method: string): ServerErrorResponse {
  if (err instanceof WhisprError) {
    const metadata = new Metadata();
    if (err.details.retry_after_ms !== undefined) metadata.set(RETRY_AFTER_KEY, String(err.details.retry_after_ms));
    if (err.code === ErrorCode.Internal || err.code === ErrorCode.Unavailable) logger.warn({ err, method }, 'grpc call failed');
    return { name: 'WhisprError', message: err.message, code: STATUS_OF_ERROR[err.code], details: err.message, metadata };
  }
  logger.error({ err, method }, 'grpc call failed');
  return { name: 'Error', message: 'internal error', code: status.INTERNAL, details: 'internal error' };
}
