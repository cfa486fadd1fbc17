/**
 * The main thread's per-frame work (DESIGN.md "Hot path"): read the frame's
 * head, decide the key to route on, hand the frame's bytes to the owning shard,
 * write back what comes out.
 *
 * No frame is decoded here. `scanFrame` reads the top-level `id`, `op`,
 * `conversation_id` and `user_id` exactly as the decoder will (a repeated key is
 * refused), and the shard runs the frame only if its decoded op and key are the
 * ones it was routed by (actors/dispatch.ts). So what routes a request, what is
 * rate-limited and what runs are one and the same (PROTOCOL.md §3).
 *
 * Routing keys: route-key.ts.
 *
 * Internal calls (`internal`: code inside this node, a job or the gRPC API, on
 * behalf of a user or as the service) enter here too, as MessagePack frames: the
 * same head scan, routing, bounds, forward timeout and shards, so what runs for
 * them is what runs for a client. Only their answer differs: a callback instead
 * of a socket, and no charge to a user's rates.
 */
import {
  CONVERSATION_OPS, CloseCode, ErrorCode, WhisprError, badRequest, decodeFrame, isOp, isUuid,
  OP_RATE_CLASS, rateLimited, scanFrame, unavailable, validateRequest, type AnyRequest, type FrameHead, type Op, type RequestId,
} from '@whispr/protocol';
import {
  encodingOf, REPLY_BAD_FRAME, REPLY_GOOD_FRAME, REPLY_NOT_FOUND, REPLY_STRIDE, type CallerKind, type Enc, type OutboxMessage, type Shard,
} from '@whispr/actors';
import type { Connection } from './connection.ts';
import type { EventDelivery } from './event-delivery.ts';
import type { Replies } from './replies.ts';
import type { LocalUsers } from './local-users.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Outgoing } from './outgoing.ts';
import type { OpRateLimits } from './op-rate-limits.ts';
import type { Presence } from './presence.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { RequestTable, type InternalAnswer, type PendingRequest } from './request-table.ts';
import { opOf, routeKey } from './route-key.ts';
import type { ForwardedEvent, ForwardedReply, ForwardedRequest, PeerLink, ShardRouting } from './routing.ts';

/**
 * Requests one connection may have in flight. uWebSockets.js cannot stop reading
 * one socket, so past this the gateway pushes back explicitly: the request is
 * answered rate_limited with retry_after_ms and nothing is queued for it.
 */
export const MAX_INFLIGHT_PER_CONNECTION = 1024;
/** Requests one shard may have in flight, over all connections (the inline shard has no queue of its own to bound it). */
export const MAX_INFLIGHT_PER_SHARD = 20_000;
/** Requests forwarded to one other node and not yet answered. */
export const MAX_INFLIGHT_PER_PEER = 20_000;
/**
 * How long a forwarded request waits for its owner's reply before it is answered
 * `unavailable` (safe to retry). Requests to a node that leaves the ring are
 * answered at once (`peerGone`), so this only bounds an owner that is alive but
 * does not answer: long enough for a commit under load, short enough for a client.
 */
export const FORWARD_TIMEOUT_MS = 5_000;
/** Internal calls (jobs, the gRPC API) in flight on this node: they have no connection to bound them. */
export const MAX_INFLIGHT_INTERNAL = 4096;
const FORWARD_SWEEP_MS = 100;
const INFLIGHT_RETRY_MS = 100;

export interface FrameRouterOptions {
  routing: ShardRouting;
  /** The other nodes; absent on a node that runs alone (everything is then local). */
  peers?: PeerLink;
  users: LocalUsers;
  outgoing: Outgoing;
  metrics: GatewayMetrics;
  /** The rate of every op, per user and rate class. */
  opLimits: OpRateLimits;
  /** Look-ups of conversations that do not exist, per user: charged like sends (PROTOCOL.md §3, issue of probing). */
  lookupLimiter: RateLimiter;
  replies: Replies;
  delivery: EventDelivery;
  /** Runs presence.watch / presence.unwatch here: watches belong to this node's connections. */
  presence: Presence;
  maxFrameBytes: number;
  close(conn: Connection, code: number, reason: string): void;
  /** A closing connection has no request in flight any more. */
  idle(conn: Connection): void;
}

export class FrameRouter {
  private readonly table = new RequestTable();
  private draining = false;
  private drained: (() => void) | null = null;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: FrameRouterOptions) {
    for (const shard of o.routing.shards) this.attach(shard);
    o.peers?.attach({
      request: (from, request) => this.onPeerRequest(from, request),
      reply: (from, reply) => this.onPeerReply(from, reply),
      event: (from, event) => this.onPeerEvent(from, event),
      presence: (_from, change) => o.presence.fromPeer(change),
    });
    this.sweeper = setInterval(() => this.expireForwards(), FORWARD_SWEEP_MS);
    this.sweeper.unref();
  }

  /** Stops the forward-timeout sweep (the gateway is closing). */
  close(): void {
    clearInterval(this.sweeper);
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
    return this.table.size;
  }

  /**
   * For a graceful stop: new requests get `unavailable` (clients retry them, with
   * the same client_random, on the node that takes over), and the returned promise
   * resolves once every request already handed to a shard is answered, so its
   * client hears the ack before its socket closes; or after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.table.size === 0) return Promise.resolve();
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
    if (conn.closing) {
      this.whileClosing(conn, enc, bytes, isBinary);
      return;
    }
    if (bytes.byteLength > this.o.maxFrameBytes) {
      this.o.close(conn, CloseCode.MessageTooBig, `frame over ${this.o.maxFrameBytes} bytes`);
      return;
    }
    this.o.metrics.framesIn.inc({ enc: encodingOf(enc) });
    const position = conn.verdicts.read();
    const scan = scanFrame(bytes, isBinary);
    if (!scan.ok) {
      const { failure } = scan;
      if (failure.kind === 'undecodable') this.badFrame(conn, enc, position, failure.error);
      else this.answerHere(conn, enc, bytes, isBinary, position, failure.id, failure.error);
      return;
    }
    const head = scan.head;
    if (conn.exp !== null && now >= conn.exp) {
      // The expiry timer closes the connection; a request that races it is refused.
      this.o.replies.error(conn, enc, head.badId ? null : head.id, new WhisprError(ErrorCode.Unauthorized, 'the token expired'));
      this.o.close(conn, CloseCode.TokenExpired, 'token expired');
      return;
    }
    const op = opOf(head);
    if (op instanceof WhisprError) {
      this.answerHere(conn, enc, bytes, isBinary, position, head.badId ? null : head.id, op);
      return;
    }
    const id = head.id ?? 0; // opOf refused a frame without a usable id
    if (op === 'ping') {
      this.answerHere(conn, enc, bytes, isBinary, position, id, { server_time: now });
      return;
    }
    if (op === 'presence.watch' || op === 'presence.unwatch') {
      this.presenceOp(conn, enc, bytes, isBinary, position, id);
      return;
    }
    const route = this.routeOf(conn, head, op);
    if (route instanceof WhisprError) {
      this.answerHere(conn, enc, bytes, isBinary, position, id, route);
      return;
    }
    this.dispatch(conn, enc, id, position, op, route, bytes);
  }

  /**
   * Answers a frame without handing it on: a result, or a refusal. The frame is
   * decoded first, so that one the decoder would refuse is answered (and counted)
   * as undecodable, exactly as a shard would have answered it (the head scan reads
   * structure, not every byte of the grammar).
   */
  private answerHere(conn: Connection, enc: Enc, bytes: Uint8Array, isBinary: boolean, position: number, re: RequestId | null, answer: WhisprError | Record<string, unknown>): void {
    try {
      decodeFrame(bytes, isBinary ? 'msgpack' : 'json');
    } catch (err) {
      this.badFrame(conn, enc, position, err);
      return;
    }
    conn.verdicts.good(position);
    if (answer instanceof WhisprError) this.o.replies.error(conn, enc, re, answer);
    else this.o.replies.ok(conn, enc, re, answer);
  }

  /**
   * presence.watch / presence.unwatch, run on this node (the connection's watches
   * live with it, presence.ts). Counted in flight like a handed-on request, so a
   * closing connection still gets its reply before the close frame.
   */
  private presenceOp(conn: Connection, enc: Enc, bytes: Uint8Array, isBinary: boolean, position: number, re: RequestId): void {
    let frame: unknown;
    try {
      frame = decodeFrame(bytes, isBinary ? 'msgpack' : 'json');
    } catch (err) {
      this.badFrame(conn, enc, position, err);
      return;
    }
    conn.verdicts.good(position);
    let request: AnyRequest;
    try {
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) throw badRequest('', 'a request is an object');
      request = validateRequest({ ...frame }, isBinary ? 'msgpack' : 'json');
    } catch (err) {
      this.o.replies.error(conn, enc, re, err);
      return;
    }
    if (request.op !== 'presence.watch' && request.op !== 'presence.unwatch') return;
    if (!this.admit(conn, enc, re, false)) return;
    conn.inflight++;
    const work = request.op === 'presence.watch' ? this.o.presence.watch(conn, request.user_ids) : this.o.presence.unwatch(conn, request.user_ids);
    void work
      .then(
        (result) => {
          if (!conn.closed) this.o.replies.ok(conn, enc, re, { ...result });
        },
        (err: unknown) => {
          if (!conn.closed) this.o.replies.error(conn, enc, re, err);
        },
      )
      .finally(() => {
        conn.inflight--;
        this.afterReply(conn);
      });
  }

  /** The key the request routes on, or the error to answer it with. */
  private routeOf(conn: Connection, head: FrameHead, op: Op): string | WhisprError {
    if (CONVERSATION_OPS.has(op)) {
      // Probing for conversations that do not exist is charged like sending (see answer()).
      const wait = this.o.lookupLimiter.wait(conn.userId);
      if (wait > 0 && isUuid(head.conversationId)) {
        this.o.metrics.rateLimited.inc();
        return rateLimited('too many requests for conversations that do not exist', wait);
      }
    }
    return routeKey(conn.userId, head, op);
  }

  private dispatch(conn: Connection, enc: Enc, re: RequestId, position: number, op: Op, route: string, bytes: Uint8Array): void {
    const owner = this.o.routing.ownerOf(route);
    if (!owner || this.draining || (owner.kind === 'remote' && !this.o.peers)) {
      this.o.replies.unavailable(conn, enc, re);
      return;
    }
    if (!this.admit(conn, enc, re, owner.kind === 'local' ? this.table.loadOf(owner.shard) >= MAX_INFLIGHT_PER_SHARD : this.table.outboundTo(owner.node) >= MAX_INFLIGHT_PER_PEER)) return;
    if (!this.allowOp(conn, enc, re, op)) return;
    if (owner.kind === 'local') {
      const serial = this.table.add({ kind: 'local', shard: owner.shard, origin: 'socket', conn, enc, re, op, position });
      owner.shard.pushRaw({ serial, conn: conn.id, user: conn.userId, caller: 'client', enc, op, route, off: 0, len: 0 }, bytes);
      return;
    }
    const serial = this.table.add({ kind: 'out', node: owner.node, deadline: Date.now() + FORWARD_TIMEOUT_MS, origin: 'socket', conn, enc, re, op, position });
    this.o.metrics.forwarded.inc({ node: owner.node });
    // The link encodes the item now: `bytes` is valid only during this callback.
    if (!this.o.peers?.forward(owner.node, { serial, user: conn.userId, caller: 'client', enc, op, route, bytes })) {
      const entry = this.table.settle(serial);
      if (entry) this.notCarriedOut(entry);
    }
  }

  /**
   * An internal call: `bytes`, a MessagePack request frame, runs as `caller` for
   * `userId` (SERVICE_PRINCIPAL_ID for the service) wherever its key is owned,
   * and `answer` gets the owner's reply or the error it could not run with. The
   * bounds are a socket's (the owner's shard or peer, and MAX_INFLIGHT_INTERNAL
   * in place of the connection's); the rates are not charged (the lead's rate
   * limits are per client).
   */
  internal(caller: Exclude<CallerKind, 'client'>, userId: string, bytes: Uint8Array, answer: InternalAnswer): void {
    const scan = scanFrame(bytes, true);
    if (!scan.ok) {
      answer(scan.failure.kind === 'undecodable' ? badRequest('', 'the internal request is not a MessagePack object') : scan.failure.error);
      return;
    }
    const op = opOf(scan.head);
    if (op instanceof WhisprError || op === 'ping') {
      answer(op instanceof WhisprError ? op : badRequest('op', 'ping has no owner to run on'));
      return;
    }
    const route = routeKey(userId, scan.head, op);
    if (route instanceof WhisprError) {
      answer(route);
      return;
    }
    const owner = this.o.routing.ownerOf(route);
    if (!owner || this.draining || (owner.kind === 'remote' && !this.o.peers)) {
      answer(unavailable('no owner can take this request now; retry'));
      return;
    }
    const full = owner.kind === 'local' ? this.table.loadOf(owner.shard) >= MAX_INFLIGHT_PER_SHARD : this.table.outboundTo(owner.node) >= MAX_INFLIGHT_PER_PEER;
    if (full || this.table.internal >= MAX_INFLIGHT_INTERNAL) {
      answer(rateLimited(full ? 'the conversation’s owner is overloaded' : `more than ${MAX_INFLIGHT_INTERNAL} internal calls in flight`, INFLIGHT_RETRY_MS));
      return;
    }
    if (owner.kind === 'local') {
      const serial = this.table.add({ kind: 'local', shard: owner.shard, origin: 'internal', answer });
      owner.shard.pushRaw({ serial, conn: 0, user: userId, caller, enc: 1, op, route, off: 0, len: 0 }, bytes);
      return;
    }
    const serial = this.table.add({ kind: 'out', node: owner.node, deadline: Date.now() + FORWARD_TIMEOUT_MS, origin: 'internal', answer });
    this.o.metrics.forwarded.inc({ node: owner.node });
    if (!this.o.peers?.forward(owner.node, { serial, user: userId, caller, enc: 1, op, route, bytes })) {
      const entry = this.table.settle(serial);
      if (entry) this.notCarriedOut(entry);
    }
  }

  /** Whether the connection (and the target's bound, `full`) lets one more request in flight; answers when not. */
  private admit(conn: Connection, enc: Enc, re: RequestId | null, full: boolean): boolean {
    if (conn.inflight >= MAX_INFLIGHT_PER_CONNECTION) {
      this.o.metrics.rateLimited.inc();
      this.o.replies.error(conn, enc, re, rateLimited(`more than ${MAX_INFLIGHT_PER_CONNECTION} requests in flight`, INFLIGHT_RETRY_MS));
      return false;
    }
    if (full) {
      this.o.metrics.rateLimited.inc();
      this.o.replies.error(conn, enc, re, rateLimited('the conversation’s owner is overloaded', INFLIGHT_RETRY_MS));
      return false;
    }
    return true;
  }

  /** A request that got no owner's answer: `unavailable`, and a socket's not charged to its op's rate. */
  private notCarriedOut(entry: PendingRequest): void {
    if (entry.kind === 'in') {
      this.o.peers?.reply(entry.from, { serial: entry.originSerial, flags: 0, bytes: null });
      return;
    }
    if (entry.origin === 'internal') {
      entry.answer(unavailable('the conversation’s owner did not answer; retry'));
      return;
    }
    this.o.opLimits.refund(entry.op, entry.conn.userId);
    if (!entry.conn.closed) {
      this.o.replies.unavailable(entry.conn, entry.enc, entry.re);
      this.afterReply(entry.conn);
    }
  }

  /** A node left the ring: what was forwarded to it will not be answered; say so now (clients retry on the successor). */
  peerGone(node: string): void {
    for (const { entry } of this.table.forwardedTo(node)) this.notCarriedOut(entry);
    if (this.table.size === 0) this.drained?.();
  }

  private expireForwards(): void {
    for (const { entry } of this.table.expired(Date.now())) {
      this.o.metrics.forwardTimeouts.inc();
      this.notCarriedOut(entry);
    }
    if (this.table.size === 0) this.drained?.();
  }

  /**
   * A frame on a connection being closed: never run. Racing a token's expiry it
   * is answered `unauthorized` (PROTOCOL.md §2); after any other close decision it
   * is not read (the close frame follows the replies to what came before).
   */
  private whileClosing(conn: Connection, enc: Enc, bytes: Uint8Array, isBinary: boolean): void {
    if (conn.closing?.code !== CloseCode.TokenExpired) return;
    const scan = scanFrame(bytes, isBinary);
    const re = scan.ok ? (scan.head.badId ? null : scan.head.id) : scan.failure.kind === 'refused' ? scan.failure.id : null;
    this.o.replies.error(conn, enc, re, new WhisprError(ErrorCode.Unauthorized, 'the token expired'));
  }

  private allowOp(conn: Connection, enc: Enc, re: RequestId | null, op: Op): boolean {
    const wait = this.o.opLimits.take(op, conn.userId);
    if (wait === 0) return true;
    this.o.metrics.rateLimited.inc();
    this.o.replies.error(conn, enc, re, rateLimited(`over the ${OP_RATE_CLASS[op]} rate (${op})`, wait));
    return false;
  }

  private settle(serial: number): PendingRequest | undefined {
    const entry = this.table.settle(serial);
    if (entry && this.table.size === 0) this.drained?.();
    return entry;
  }

  /** Called once a settled request's reply is written: a closing connection with nothing left in flight closes now. */
  private afterReply(conn: Connection): void {
    if (conn.inflight === 0 && conn.closing) this.o.idle(conn);
  }

  private badFrame(conn: Connection, enc: Enc, position: number, err: unknown): void {
    this.o.metrics.badFrames.inc();
    this.o.replies.error(conn, enc, null, err);
    if (conn.verdicts.undecodable(position)) this.o.close(conn, CloseCode.PolicyViolation, 'too many undecodable frames');
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
      if (!p) continue;
      const reply = bytes.subarray(off, off + len);
      if (p.kind === 'in') {
        // Encoded by the link now: the outbox buffer is not kept.
        this.o.peers?.reply(p.from, { serial: p.originSerial, flags, bytes: reply });
        continue;
      }
      if (p.origin === 'internal') p.answer({ flags, bytes: reply });
      else this.answer(p.conn, p.position, enc, flags, reply);
    }
    for (const ev of m.events) {
      const json = bytes.subarray(ev.jsonOff, ev.jsonOff + ev.jsonLen);
      const mp = bytes.subarray(ev.mpOff, ev.mpOff + ev.mpLen);
      this.o.delivery.toUsers(ev.users, json, mp, ev.conversationId, ev.seq);
      for (const target of ev.remote) {
        this.o.metrics.eventsForwarded.inc({ node: target.node });
        if (!this.o.peers?.event(target.node, { users: target.users, json, mp, conversationId: ev.conversationId, seq: ev.seq })) {
          // Not taken by the link: those members see a seq gap and sync (DESIGN.md: a lost bus message is never a lost message).
          this.o.metrics.eventsNotForwarded.inc({ node: target.node });
        }
      }
    }
  }

  /** A shard's (or a peer's) reply to a request from one of this node's sockets. */
  private answer(conn: Connection, position: number, enc: Enc, flags: number, reply: Uint8Array): void {
    if (conn.closed) return;
    if (flags & REPLY_NOT_FOUND) this.o.lookupLimiter.take(conn.userId);
    this.o.metrics.replies.inc();
    this.o.outgoing.write(conn, reply, enc === 1, false);
    if (flags & REPLY_BAD_FRAME) {
      this.o.metrics.badFrames.inc();
      if (conn.verdicts.undecodable(position)) this.o.close(conn, CloseCode.PolicyViolation, 'too many undecodable frames');
    } else if (flags & REPLY_GOOD_FRAME) {
      conn.verdicts.good(position);
    }
    this.afterReply(conn);
  }

  // ---------------------------------------------------------------- from other nodes

  /** A request another node forwarded here: run it if this node owns its key, else say it could not run. */
  private onPeerRequest(from: string, request: ForwardedRequest): void {
    const owner = isOp(request.op) ? this.o.routing.ownerOf(request.route) : null;
    if (!owner || owner.kind !== 'local' || this.draining || this.table.loadOf(owner.shard) >= MAX_INFLIGHT_PER_SHARD) {
      this.o.peers?.reply(from, { serial: request.serial, flags: 0, bytes: null });
      return;
    }
    this.o.metrics.forwardedIn.inc({ node: from });
    const serial = this.table.add({ kind: 'in', from, originSerial: request.serial, shard: owner.shard });
    // conn 0: the socket is on the origin node; the shard only echoes it.
    owner.shard.pushRaw({ serial, conn: 0, user: request.user, caller: request.caller, enc: request.enc, op: request.op as Op, route: request.route, off: 0, len: 0 }, request.bytes);
  }

  private onPeerReply(from: string, reply: ForwardedReply): void {
    const p = this.table.get(reply.serial);
    // A reply must come from the node the request went to, and only once (a late one after the timeout is dropped).
    if (!p || p.kind !== 'out' || p.node !== from) return;
    this.settle(reply.serial);
    if (reply.bytes === null) {
      this.notCarriedOut(p);
      return;
    }
    if (p.origin === 'internal') p.answer({ flags: reply.flags, bytes: reply.bytes });
    else this.answer(p.conn, p.position, p.enc, reply.flags, reply.bytes);
  }

  private onPeerEvent(_from: string, event: ForwardedEvent): void {
    this.o.delivery.toUsers(event.users, event.json, event.mp, event.conversationId, event.seq);
  }

  private onFailed(serials: number[]): void {
    for (const serial of serials) {
      const p = this.settle(serial);
      if (p) this.notCarriedOut(p);
    }
  }
}
