/**
 * Errors the SDK rejects with. Each one carries what a caller needs to decide
 * what to do next (retry, reconnect, re-authenticate) without parsing messages.
 */
import { ErrorCode, type ErrorBody, type RequestId } from '@whispr/protocol';

/**
 * A reply with `ok: false`. `code` is one of the protocol's error codes; it is typed
 * as open-ended because the service may add codes and an old SDK must still surface them.
 */
export class WhisprRequestError extends Error {
  readonly code: ErrorCode | (string & {});
  readonly op: string;
  readonly requestId: RequestId | null;
  /** Every field of `error` other than code and message (e.g. retry_after_ms, field). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(op: string, requestId: RequestId | null, body: ErrorBody | Record<string, unknown>) {
    const { code, message, ...details } = body as Record<string, unknown>;
    super(typeof message === 'string' ? message : 'request failed');
    this.name = 'WhisprRequestError';
    this.code = typeof code === 'string' ? code : ErrorCode.Internal;
    this.op = op;
    this.requestId = requestId;
    this.details = details;
  }

  /** How long the server asked us to wait (rate_limited), if it said. */
  get retryAfterMs(): number | undefined {
    const value = this.details.retry_after_ms;
    return typeof value === 'number' ? value : undefined;
  }

  /**
   * True when repeating the same request later can succeed. For msg.send the retry
   * must reuse the same client_random so the server can recognise it.
   */
  get retryable(): boolean {
    return this.code === ErrorCode.Unavailable || this.code === ErrorCode.RateLimited;
  }
}

/** The connection closed (or was already closed) before a reply arrived. */
export class WhisprConnectionClosedError extends Error {
  /** The WebSocket close code (1006 when the socket dropped without a close frame). */
  readonly closeCode: number;
  readonly reason: string;

  constructor(closeCode: number, reason: string) {
    super(`connection closed (${closeCode}${reason ? `: ${reason}` : ''})`);
    this.name = 'WhisprConnectionClosedError';
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/** The server refused the WebSocket upgrade with an HTTP status (401 for a bad or expired token). */
export class WhisprUpgradeError extends Error {
  readonly status: number;

  constructor(status: number, statusText: string) {
    super(`WebSocket upgrade refused: HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.name = 'WhisprUpgradeError';
    this.status = status;
  }
}

/** No reply within the client's requestTimeoutMs. The request may still take effect on the server. */
export class WhisprTimeoutError extends Error {
  readonly op: string;
  readonly requestId: RequestId | null;
  readonly timeoutMs: number;

  constructor(op: string, requestId: RequestId | null, timeoutMs: number) {
    super(`${op} got no reply within ${timeoutMs} ms`);
    this.name = 'WhisprTimeoutError';
    this.op = op;
    this.requestId = requestId;
    this.timeoutMs = timeoutMs;
  }
}
