/**
 * Replies the gateway makes itself (PROTOCOL.md §3): to frames it refuses at the
 * edge, and for requests it could not hand to an owner. Shard replies arrive
 * encoded and are written as they are.
 */
import { ErrorCode, WhisprError, encodeFrame, type ErrorBody, type RequestId } from '@whispr/protocol';
import { encodingOf, type Enc } from '@whispr/actors';
import type { Connection } from './connection.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Outgoing } from './outgoing.ts';

export class Replies {
  constructor(private readonly outgoing: Outgoing, private readonly metrics: GatewayMetrics) {}

  ok(conn: Connection, enc: Enc, re: RequestId | null, result: Record<string, unknown>): void {
    this.write(conn, enc, { re, ok: true, ...result });
  }

  /** A coded error; anything else is logged and answered `internal`. */
  error(conn: Connection, enc: Enc, re: RequestId | null, err: unknown): void {
    let error: ErrorBody;
    if (err instanceof WhisprError) error = err.toBody();
    else {
      conn.log.error({ err, re }, 'request failed in the gateway');
      error = { code: ErrorCode.Internal, message: 'internal error' };
    }
    this.write(conn, enc, { re, ok: false, error });
  }

  /** The request could not reach an owner that can run it: safe to retry. */
  unavailable(conn: Connection, enc: Enc, re: RequestId | null): void {
    this.metrics.unavailable.inc();
    this.error(conn, enc, re, new WhisprError(ErrorCode.Unavailable, 'the conversation’s owner cannot be reached now; retry with the same client_random'));
  }

  private write(conn: Connection, enc: Enc, frame: unknown): void {
    this.metrics.replies.inc();
    this.outgoing.write(conn, encodeFrame(frame, encodingOf(enc)), enc === 1, false);
  }
}
