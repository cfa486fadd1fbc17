/**
 * The one registry of error codes (PROTOCOL.md §3) and WebSocket close codes.
 * Every reply error and every close the service makes comes from these tables;
 * docs/protocol.md reproduces them for client authors.
 */

export const ErrorCode = {
  /** Not decodable, not an object, unknown op, a field missing or of the wrong type or range. */
  BadRequest: 'bad_request',
  /** The token expired during the session. */
  Unauthorized: 'unauthorized',
  /** Not an active member, role or authorship does not allow it, or a block forbids it. */
  Forbidden: 'forbidden',
  /** No such conversation, message or scheduled message. */
  NotFound: 'not_found',
  /** client_random already used by this sender for a different message. */
  Conflict: 'conflict',
  /** Content or metadata over the limits announced in hello. */
  TooLarge: 'too_large',
  /** Over the sender's rate; error.retry_after_ms says when to retry. */
  RateLimited: 'rate_limited',
  /** The conversation's owner cannot be reached now; safe to retry with the same client_random. */
  Unavailable: 'unavailable',
  /** Anything else; logged with the request id. */
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** Normal closure (server shutting down, or the client asked). */
  Normal: 1000,
  /** Server going away (node shutdown or drain). */
  GoingAway: 1001,
  /**
   * A text frame that is not valid UTF-8 (RFC 6455 §8.1). Named for completeness: the
   * WebSocket library checks text frames itself and drops such a connection without
   * a close frame before the service sees the frame (docs/protocol.md, "Closes").
   */
  InvalidPayload: 1007,
  /** Policy violation: 20 consecutive frames that cannot be decoded or are not objects. */
  PolicyViolation: 1008,
  /** A frame over max_frame_bytes. */
  MessageTooBig: 1009,
  /** The token's exp passed during the session. */
  TokenExpired: 4001,
  /** The connection's unsent backlog passed the server's bound (slow reader): reconnect and sync. */
  SlowConsumer: 4008,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
  field?: string;
}

/** An error that maps to a reply error code. Thrown by handlers, caught once at the edge. */
export class WhisprError extends Error {
  readonly code: ErrorCode;
  readonly details: Omit<ErrorBody, 'code' | 'message'>;

  constructor(code: ErrorCode, message: string, details: Omit<ErrorBody, 'code' | 'message'> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WhisprError';
    this.code = code;
    this.details = details;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/**
 * `not_found` for the conversation itself (not for a message in it): the gateway
 * charges these to the sender's look-up budget, so probing for ids costs like sending.
 */
export class ConversationNotFoundError extends WhisprError {
  constructor() {
    super(ErrorCode.NotFound, 'no such conversation');
    this.name = 'ConversationNotFoundError';
  }
}

/** Over a bound of the service (a queue, a budget): retry after `retryAfterMs`. */
export const rateLimited = (message: string, retryAfterMs: number): WhisprError =>
  new WhisprError(ErrorCode.RateLimited, message, { retry_after_ms: Math.max(1, Math.ceil(retryAfterMs)) });

export const badRequest = (field: string, message: string): WhisprError =>
  new WhisprError(ErrorCode.BadRequest, field ? `${field}: ${message}` : message, field ? { field } : {});
export const forbidden = (message: string): WhisprError => new WhisprError(ErrorCode.Forbidden, message);
export const notFound = (message: string): WhisprError => new WhisprError(ErrorCode.NotFound, message);
export const conflict = (message: string): WhisprError => new WhisprError(ErrorCode.Conflict, message);
export const tooLarge = (field: string, message: string): WhisprError =>
  new WhisprError(ErrorCode.TooLarge, `${field}: ${message}`, { field });
export const unavailable = (message: string, options?: ErrorOptions): WhisprError =>
  new WhisprError(ErrorCode.Unavailable, message, {}, options);
