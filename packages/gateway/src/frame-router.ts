/**
 * The main thread's per-frame work (DESIGN.md "Hot path"): find the key to route
 * on, hand the frame's bytes to the owning shard, write back what comes out.
 *
 * Conversation-scoped frames are not decoded here: a byte-level peek finds
 * `op` and `conversation_id` and the raw bytes go to the owner, which decodes
 * and validates them once. Frames the peek cannot read, and ops that name no
 * conversation (conv.direct, conv.group, conv.list, sync, ping), are decoded
 * here: they are rare, and their routing key needs the decoded fields.
 */
import {
  CONVERSATION_OPS, CloseCode, ErrorCode, MAX_CONSECUTIVE_BAD_FRAMES, WhisprError,
  decodeFrame, decodeServerFrame, encodeFrame, isPlainObject, peekFrame, peekRequestId, requestIdOf, validateRequest,
  type AnyRequest, type ErrorBody, type RequestId,
} from '@whispr/protocol';
import { directConversationId, newId } from '@whispr/store';
import { encodingOf, REPLY_BAD_FRAME, REPLY_GOOD_FRAME, REPLY_STRIDE, type Enc, type OutboxMessage, type Shard } from '@whispr/actors';
import type { Connection } from './connection.ts';
import type { LocalUsers } from './local-users.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Outgoing } from './outgoing.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { ShardRouting } from './routing.ts';

/**
 * Requests one connection may have in flight. uWebSockets.js cannot stop reading
 * one socket, so past this the gateway pushes back explicitly: the request is
 * answered rate_limited with retry_after_ms and nothing is queued for it.
 */
export const MAX_INFLIGHT_PER_CONNECTION = 1024;
const INFLIGHT_RETRY_MS = 100;

interface Pending {
  conn: Connection;
  enc: Enc;
  re: RequestId | null;
}


export interface FrameRouterOptions {
  routing: ShardRouting;
  users: LocalUsers;
  outgoing: Outgoing;
  metrics: GatewayMetrics;
  rateLimiter: RateLimiter;
  maxFrameBytes: number;
  close(conn: Connection, code: number, reason: string): void;
}

export class FrameRouter {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private draining = false;
  private drained: (() => void) | null = null;

  constructor(private readonly o: FrameRouterOptions) {
    for (const shard of o.routing.shards) this.attach(shard);
  }

  private attach(shard: Shard): void {
    shard.on('outbox', (m) => {
      this.onOutbox(m);
      // Written now rather than on the next turn: an outbox message arrives from a
      // worker's port or the inline shard's setImmediate, never inside a
      // uWebSockets.js callback, so corking sockets here is safe (outgoing.ts).
      this.o.outgoing.flush();
    });
    shard.on('failed', (serials) => this.onFailed(serials));
    shard.on('stats', (s) => this.o.metrics.shardStats(s));
  }

  get inflight(): number {
    return this.pending.size;
  }

  /**
   * For a graceful stop: new requests get `unavailable` (clients retry them, with
   * the same client_random, on the node that takes over), and the returned promise
   * resolves once every request already handed to a shard is answered, so its
   * client hears the ack before its socket closes; or after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drained = done;
    });
  }

  /** One frame from a socket. `bytes` is valid only during this call. */
  onFrame(conn: Connection, bytes: Uint8Array, isBinary: boolean): void {
    const enc: Enc = isBinary ? 1 : 0;
    const now = Date.now();
    conn.lastActivity = now;
    if (bytes.byteLength > this.o.maxFrameBytes) {
      this.o.close(conn, CloseCode.MessageTooBig, `frame over ${this.o.maxFrameBytes} bytes`);
      return;
    }
    this.o.metrics.framesIn.inc({ enc: encodingOf(enc) });
    if (conn.exp !== null && now >= conn.exp) {
      this.replyError(conn, enc, peekRequestId(bytes, isBinary), new WhisprError(ErrorCode.Unauthorized, 'the token expired'));
      this.o.close(conn, CloseCode.TokenExpired, 'token expired');
      return;
    }
    const peek = peekFrame(bytes, isBinary);
    if (peek.conversationId !== null && peek.op !== null && CONVERSATION_OPS.has(peek.op as never)) {
      if (peek.op === 'msg.send' && !this.allowSend(conn, enc, () => peekRequestId(bytes, isBinary))) return;
      const shard = this.o.routing.shardFor(peek.conversationId);
      if (!shard) {
        this.unavailable(conn, enc, peekRequestId(bytes, isBinary));
        return;
      }
      const serial = this.track(conn, enc, peekRequestId(bytes, isBinary));
      if (serial === null) return;
      shard.pushRaw({ serial, conn: conn.id, user: conn.userId, enc, route: peek.conversationId, off: 0, len: 0 }, bytes);
      return;
    }
    this.onDecodedPath(conn, enc, bytes);
  }

  private onDecodedPath(conn: Connection, enc: Enc, bytes: Uint8Array): void {
    let value: unknown;
    try {
      value = decodeFrame(bytes, encodingOf(enc));
      if (!isPlainObject(value)) throw new WhisprError(ErrorCode.BadRequest, 'frame is not an object');
    } catch (err) {
      this.badFrame(conn, enc, err);
      return;
    }
    conn.badFrames = 0;
    let request: AnyRequest;
    try {
      request = validateRequest(value, encodingOf(enc));
    } catch (err) {
      this.replyError(conn, enc, requestIdOf(value), err);
      return;
    }
    this.route(conn, enc, request);
  }

  private route(conn: Connection, enc: Enc, request: AnyRequest): void {
    let key: string;
    switch (request.op) {
      case 'ping':
        this.reply(conn, enc, { re: request.id, ok: true, server_time: Date.now() });
        return;
      case 'conv.direct':
        if (request.user_id === conn.userId) {
          this.replyError(conn, enc, request.id, new WhisprError(ErrorCode.BadRequest, 'user_id: must not be the caller’s own id', { field: 'user_id' }));
          return;
        }
        key = directConversationId(conn.userId, request.user_id);
        break;
      case 'conv.group':
        key = newId();
        break;
      case 'conv.list':
      case 'sync':
        key = conn.userId;
        break;
      default:
        if (request.op === 'msg.send' && !this.allowSend(conn, enc, () => request.id)) return;
        key = request.conversation_id;
    }
    const shard = this.o.routing.shardFor(key);
    if (!shard) {
      this.unavailable(conn, enc, request.id);
      return;
    }
    const serial = this.track(conn, enc, request.id);
    if (serial === null) return;
    shard.pushDecoded({ serial, conn: conn.id, user: conn.userId, enc, route: key, request });
  }

  private allowSend(conn: Connection, enc: Enc, id: () => RequestId | null): boolean {
    const wait = this.o.rateLimiter.take(conn.userId);
    if (wait === 0) return true;
    this.o.metrics.rateLimited.inc();
    this.replyError(conn, enc, id(), new WhisprError(ErrorCode.RateLimited, 'over the send rate', { retry_after_ms: wait }));
    return false;
  }

  /** Registers a request handed to a shard, or answers rate_limited when the connection has too many. */
  private track(conn: Connection, enc: Enc, re: RequestId | null): number | null {
    if (this.draining) {
      this.unavailable(conn, enc, re);
      return null;
    }
    if (conn.inflight >= MAX_INFLIGHT_PER_CONNECTION) {
      this.o.metrics.rateLimited.inc();
      this.replyError(conn, enc, re, new WhisprError(ErrorCode.RateLimited, `more than ${MAX_INFLIGHT_PER_CONNECTION} requests in flight`, { retry_after_ms: INFLIGHT_RETRY_MS }));
      return null;
    }
    const serial = ++this.serial;
    this.pending.set(serial, { conn, enc, re });
    conn.inflight++;
    return serial;
  }

  private settle(serial: number): Pending | undefined {
    const p = this.pending.get(serial);
    if (!p) return undefined;
    this.pending.delete(serial);
    p.conn.inflight--;
    if (this.pending.size === 0) this.drained?.();
    return p;
  }

  private badFrame(conn: Connection, enc: Enc, err: unknown): void {
    this.o.metrics.badFrames.inc();
    conn.badFrames++;
    this.replyError(conn, enc, null, err);
    if (conn.badFrames >= MAX_CONSECUTIVE_BAD_FRAMES) this.o.close(conn, CloseCode.PolicyViolation, 'too many undecodable frames');
  }

  private onOutbox(m: OutboxMessage): void {
    const bytes = new Uint8Array(m.buf);
    const { replies } = m;
    for (let i = 0; i < replies.length; i += REPLY_STRIDE) {
      const serial = replies[i]!;
      const enc = replies[i + 2] as Enc;
      const off = replies[i + 3]!;
      const len = replies[i + 4]!;
      const flags = replies[i + 5]!;
      const p = this.settle(serial);
      if (!p || p.conn.closed) continue;
      if (flags & REPLY_BAD_FRAME) {
        this.o.metrics.badFrames.inc();
        p.conn.badFrames++;
      } else if (flags & REPLY_GOOD_FRAME) {
        p.conn.badFrames = 0;
      }
      this.o.metrics.replies.inc();
      this.o.outgoing.write(p.conn, bytes.subarray(off, off + len), enc === 1, false);
      if (p.conn.badFrames >= MAX_CONSECUTIVE_BAD_FRAMES) this.o.close(p.conn, CloseCode.PolicyViolation, 'too many undecodable frames');
    }
    for (const ev of m.events) {
      const json = bytes.subarray(ev.jsonOff, ev.jsonOff + ev.jsonLen);
      const mp = bytes.subarray(ev.mpOff, ev.mpOff + ev.mpLen);
      for (const user of ev.users) {
        const conns = this.o.users.get(user);
        if (!conns) continue;
        for (const conn of conns) this.deliverEvent(conn, json, mp, ev.conversationId, ev.seq);
      }
    }
    for (const frame of m.reroutes) {
      const p = this.pending.get(frame.serial);
      const shard = this.o.routing.shardFor(frame.route);
      if (!p) continue;
      if (!shard) {
        this.settle(frame.serial);
        this.unavailable(p.conn, p.enc, p.re);
        continue;
      }
      shard.pushDecoded(frame);
    }
  }

  deliverEvent(conn: Connection, json: Uint8Array, mp: Uint8Array, conversationId: string | null, seq: number): void {
    if (conn.closed) return;
    if (conn.draining) {
      conn.held.push({ json, mp, conversationId, seq });
      return;
    }
    if (conn.drained && conversationId !== null && conn.drained.has(`${conversationId}:${seq}`)) return;
    this.o.metrics.events.inc();
    const binary = conn.enc === 1;
    let bytes = binary ? mp : json;
    if (bytes.byteLength === 0) {
      // The worker skipped an encoding no connection used; this one arrived since. Rare: convert.
      bytes = binary ? encodeFrame(decodeServerFrame(json, 'json'), 'msgpack') : encodeFrame(decodeServerFrame(mp, 'msgpack'), 'json');
    }
    this.o.outgoing.write(conn, bytes, binary, true);
  }

  private onFailed(serials: number[]): void {
    for (const serial of serials) {
      const p = this.settle(serial);
      if (p && !p.conn.closed) this.unavailable(p.conn, p.enc, p.re);
    }
  }

  private unavailable(conn: Connection, enc: Enc, re: RequestId | null): void {
    this.o.metrics.unavailable.inc();
    this.replyError(conn, enc, re, new WhisprError(ErrorCode.Unavailable, 'the conversation’s owner cannot be reached now; retry with the same client_random'));
  }

  private replyError(conn: Connection, enc: Enc, re: RequestId | null, err: unknown): void {
    let error: ErrorBody;
    if (err instanceof WhisprError) error = err.toBody();
    else {
      conn.log.error({ err, re }, 'request failed in the gateway');
      error = { code: ErrorCode.Internal, message: 'internal error' };
    }
    this.reply(conn, enc, { re, ok: false, error });
  }

  private reply(conn: Connection, enc: Enc, frame: unknown): void {
    this.o.metrics.replies.inc();
    this.o.outgoing.write(conn, encodeFrame(frame, encodingOf(enc)), enc === 1, false);
  }
}
