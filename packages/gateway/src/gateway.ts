/**
 * The node's HTTP and WebSocket frontend on uWebSockets.js (PROTOCOL.md §1–§3):
 * /healthz, /readyz, /metrics and /ws. It authenticates upgrades, holds the
 * sockets, and hands frames to the FrameRouter.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import { ENCODING_COUNTER, encodingOf, type CallerKind } from '@whispr/actors';
import { BOUNDS, CloseCode, MAX_CONSECUTIVE_BAD_FRAMES, encodeFrame, type Limits } from '@whispr/protocol';
import type { RedisKeys } from '@whispr/store';
import { AuthError, type TokenVerifier, type VerifiedToken } from './auth.ts';
import type { Connection } from './connection.ts';
import { EventDelivery } from './event-delivery.ts';
import { FrameRouter } from './frame-router.ts';
import { FrameVerdicts } from './frame-verdicts.ts';
import { Replies } from './replies.ts';
import type { InternalAnswer } from './request-table.ts';
import { LocalUsers } from './local-users.ts';
import { GatewayMetrics } from './metrics.ts';
import { loadNativeUws } from './native.ts';
import { drainOfflineQueue } from './offline-drain.ts';
import { Outgoing } from './outgoing.ts';
import { Presence } from './presence.ts';
import { OpRateLimits } from './op-rate-limits.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { PeerLink, Readiness, ShardRouting } from './routing.ts';

export interface GatewayOptions {
  host: string;
  port: number;
  nodeId: string;
  /** This run of the node (random per process start), as in its registry entry and presence records. */
  incarnation: string;
  limits: Limits;
  /** Unsent bytes a socket may hold before it is closed with 4008. */
  socketBacklogBytes: number;
  verifyToken: TokenVerifier;
  routing: ShardRouting;
  /** The link to the other nodes of the cluster (absent: this node serves alone). */
  peers?: PeerLink;
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  readiness(): Promise<Readiness>;
  /** Seconds of silence after which a client is closed (PROTOCOL.md §2: 120). */
  idleTimeoutS?: number;
  /** Int32 [json, msgpack] connection counts shared with the shard workers (ENCODING_COUNTER). */
  encodingsInUse?: SharedArrayBuffer;
  /** The live nodes of the cluster (id → incarnation), for presence; absent: this node alone. */
  liveNodes?: () => ReadonlyMap<string, string>;
  /** More GET routes (the node's /cluster view): each answers the JSON of what its function returns at that moment. */
  extraRoutes?: Readonly<Record<string, () => unknown>>;
}

const PRESENCE_REFRESH_MS = 30_000;
/** Longest a graceful stop waits for requests already handed to shards. */
const DRAIN_TIMEOUT_MS = 5_000;
/** Longest a closing connection waits for the replies to the requests it sent before the close. */
const CLOSE_AFTER_REPLIES_MS = 5_000;
/**
 * How long a connection whose token expired keeps reading (answering
 * `unauthorized`, running nothing) before its close frame: requests the client
 * pipelined just before it learned of the expiry are answered instead of lost.
 */
const CLOSE_LINGER_MS = 250;
/**
 * Longest a slow reader being closed with 4008 is given to read its backlog, so
 * that the close frame, queued behind it, reaches it (else it would see 1006).
 */
const SLOW_CLOSE_MS = 15_000;
/** Backlog under which a slow reader's close frame goes out at once. */
const SLOW_CLOSE_BACKLOG_BYTES = 16 * 1024;

/**
 * Runs a uWebSockets.js call that follows a promise outside any uWebSockets.js
 * callback: a promise continuation may run while it has another socket corked,
 * and corking a second one then can interleave their output.
 */
const outsideUwsCallbacks = (fn: () => void): void => {
  setImmediate(fn);
};
/** Longest delay setTimeout accepts; later expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Gateway {
  readonly metrics = new GatewayMetrics();
  private readonly app: TemplatedApp;
  private readonly users = new LocalUsers();
  private readonly connections = new Map<number, Connection>();
  private readonly outgoing: Outgoing;
  private readonly router: FrameRouter;
  private readonly delivery: EventDelivery;
  private readonly presence: Presence;
  private readonly opLimits: OpRateLimits;
  private readonly lookupLimiter: RateLimiter;
  /** Presence clean-ups of closed connections still being written (a stop waits for them). */
  private readonly departures = new Set<Promise<void>>();
  private readonly log: Logger;
  private listenSocket: us_listen_socket | null = null;
  private nextConnectionId = 0;
  private presenceTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private readonly encodingCounts: Int32Array;

  constructor(private readonly options: GatewayOptions) {
    validate(options);
    const uWS = loadNativeUws();
    this.encodingCounts = new Int32Array(options.encodingsInUse ?? new SharedArrayBuffer(8));
    this.log = options.logger.child({ component: 'gateway' });
    this.opLimits = new OpRateLimits(options.limits);
    // Requests about conversations that do not exist cost like sends (PROTOCOL.md §3).
    this.lookupLimiter = new RateLimiter(options.limits.send_rate_per_s, options.limits.send_burst);
    this.outgoing = new Outgoing({
      backlogBytes: options.socketBacklogBytes,
      onSlowConsumer: (conn) => this.closeConnection(conn, CloseCode.SlowConsumer, 'slow consumer: reconnect and sync'),
    });
    this.delivery = new EventDelivery(this.users, this.outgoing, this.metrics, (conn, code, reason) => this.closeConnection(conn, code, reason));
    this.presence = new Presence({
      redis: options.redis, keys: options.keys, nodeId: options.nodeId, incarnation: options.incarnation, users: this.users,
      delivery: this.delivery, logger: this.log,
      ...(options.liveNodes ? { liveNodes: options.liveNodes } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
    });
    this.router = new FrameRouter({
      routing: options.routing,
      replies: new Replies(this.outgoing, this.metrics),
      delivery: this.delivery,
      presence: this.presence,
      ...(options.peers ? { peers: options.peers } : {}),
      users: this.users,
      outgoing: this.outgoing,
      metrics: this.metrics,
      opLimits: this.opLimits,
      lookupLimiter: this.lookupLimiter,
      maxFrameBytes: options.limits.max_frame_bytes,
      close: (conn, code, reason) => this.closeConnection(conn, code, reason),
      idle: (conn) => this.finishClose(conn),
    });
    this.app = uWS.App();
    this.app.get('/healthz', (res) => {
      res.cork(() => res.writeHeader('content-type', 'text/plain').end('ok'));
    });
    this.app.get('/readyz', (res) => this.readyz(res));
    this.app.get('/metrics', (res) => this.metricsEndpoint(res));
    for (const [path, body] of Object.entries(options.extraRoutes ?? {})) this.app.get(path, (res) => this.jsonRoute(res, body));
    this.app.ws<Connection>('/ws', {
      // uWebSockets.js cuts a connection over maxPayloadLength without a close frame
      // (the client sees 1006), and it reads the length from the frame's header, so
      // such a frame costs no memory. Frames up to this cap are read and closed with
      // 1009 as PROTOCOL.md says; past it, 1006 (docs/protocol.md, "Closes").
      maxPayloadLength: maxPayloadFor(options.limits.max_frame_bytes),
      idleTimeout: options.idleTimeoutS ?? 120,
      sendPingsAutomatically: true,
      // Far above the service's own bound, so uWebSockets.js never drops a message
      // (it skips sockets over this limit); Outgoing closes slow sockets long before.
      maxBackpressure: options.socketBacklogBytes * 4 + options.limits.max_frame_bytes * 4,
      closeOnBackpressureLimit: 0,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.router.onFrame(ws.getUserData(), Buffer.from(message), isBinary),
      drain: (ws) => this.drained(ws.getUserData()),
      close: (ws, code) => this.closed(ws, code),
    });
    this.app.any('/*', (res) => {
      res.cork(() => res.writeStatus('404 Not Found').end('not found'));
    });
  }

  listen(): Promise<number> {
    const uWS = loadNativeUws();
    return new Promise((resolve, reject) => {
      this.app.listen(this.options.host, this.options.port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.options.host}:${this.options.port}`));
          return;
        }
        this.listenSocket = socket;
        const port = uWS.us_socket_local_port(socket);
        this.presenceTimer = setInterval(() => this.presence.refresh(this.connections.values()), PRESENCE_REFRESH_MS);
        this.presenceTimer.unref();
        this.log.info({ host: this.options.host, port }, 'listening');
        resolve(port);
      });
    });
  }

  /** A node left the ring: requests forwarded to it are answered `unavailable` now rather than at their timeout. */
  peerGone(node: string): void {
    this.router.peerGone(node);
    this.outgoing.flush();
  }

  /** The live nodes changed: presence of watched users is read again (a dead node's users go offline). */
  nodesChanged(): void {
    this.presence.nodesChanged();
  }

  /**
   * An internal call's frame, routed and run like a socket's (frame-router.ts
   * `internal`); the node's InternalCalls builds the frame and reads the answer.
   */
  internal(caller: Exclude<CallerKind, 'client'>, userId: string, bytes: Uint8Array, answer: InternalAnswer): void {
    this.router.internal(caller, userId, bytes, answer);
  }

  /** Rewrites this node's presence of every connected user now (after Redis came back). */
  refreshPresence(): void {
    this.presence.refresh(this.connections.values());
  }

  /**
   * Closes one connection with a close code from the CloseCode table. From now on
   * its frames are answered but not run (frame-router.ts). The close frame goes
   * out after the replies to every request read before (PROTOCOL.md §3), or, for
   * a slow reader (4008), once it has read its backlog, so it sees the code; in
   * both cases within a bounded time. `immediate`: now (the node is stopping).
   */
  private closeConnection(conn: Connection, code: number, reason: string, immediate = false): void {
    if (conn.closed || !conn.ws) return;
    if (conn.closing) {
      if (immediate) this.endNow(conn);
      return;
    }
    this.metrics.closes.inc({ code: String(code) });
    conn.log.info({ code, reason }, 'closing connection');
    const slow = code === CloseCode.SlowConsumer;
    const timer = setTimeout(() => this.endNow(conn), slow ? SLOW_CLOSE_MS : CLOSE_AFTER_REPLIES_MS);
    timer.unref();
    // Only an expiry lingers: a request racing it is answered `unauthorized` (PROTOCOL.md §2).
    const lingers = code === CloseCode.TokenExpired && !immediate;
    const lingerUntil = lingers ? Date.now() + CLOSE_LINGER_MS : 0;
    conn.closing = { code, reason, timer, lingerUntil };
    if (slow) {
      this.outgoing.discard(conn);
      conn.held = [];
      this.drained(conn);
    } else if (immediate) {
      this.outgoing.flushConnection(conn);
      this.endNow(conn);
    } else if (lingers) {
      const linger = setTimeout(() => this.finishClose(conn), CLOSE_LINGER_MS);
      linger.unref();
    } else {
      this.finishClose(conn);
    }
  }

  /**
   * A closing connection's last reply may be written: once nothing is in flight and
   * the linger is over, flush what is waiting, then the close frame.
   */
  private finishClose(conn: Connection): void {
    if (!conn.closing || conn.closing.code === CloseCode.SlowConsumer) return;
    if (conn.inflight > 0 || Date.now() < conn.closing.lingerUntil) return;
    this.outgoing.flushConnection(conn);
    this.endNow(conn);
  }

  /** uWebSockets.js drained some of the socket's backlog: a slow reader being closed may get its close frame now. */
  private drained(conn: Connection): void {
    if (conn.closing?.code !== CloseCode.SlowConsumer || !conn.ws) return;
    if (conn.ws.getBufferedAmount() <= SLOW_CLOSE_BACKLOG_BYTES) this.endNow(conn);
  }

  private endNow(conn: Connection): void {
    const closing = conn.closing;
    if (!closing || conn.closed || !conn.ws) return;
    clearTimeout(closing.timer);
    conn.ws.end(closing.code, closing.reason);
  }

  /**
   * The first half of a graceful stop: stops accepting connections and lets the
   * requests already handed to shards be answered (new ones get `unavailable`),
   * so nothing this node committed goes unacknowledged for want of a socket.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      const uWS = loadNativeUws();
      if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
      await this.router.drain(DRAIN_TIMEOUT_MS);
      this.outgoing.flush();
    })();
    return this.draining;
  }

  /** Drains (if not done yet), closes every socket with 1001, and waits for their presence to be cleared. */
  async close(): Promise<void> {
    await this.drain();
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    // Each close runs the close handler, which clears that connection's presence once.
    for (const c of [...this.connections.values()]) this.closeConnection(c, CloseCode.GoingAway, 'node shutting down', true);
    await Promise.all([...this.departures]);
    this.opLimits.close();
    this.lookupLimiter.close();
    this.router.close();
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: unknown): void {
    const secKey = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const authorization = req.getHeader('authorization');
    const userAgent = req.getHeader('user-agent');
    const query = new URLSearchParams(req.getQuery() ?? '');
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    // Answered here, inside uWebSockets.js's upgrade callback (already corked):
    // see auth.ts for why the upgrade is never completed later.
    const refuse = (status: string, reason: string, body: string): void => {
      this.metrics.upgradesRefused.inc({ reason });
      res.writeStatus(status).writeHeader('content-type', 'text/plain').end(body);
    };
    const encParam = query.get('enc') ?? 'json';
    if (encParam !== 'json' && encParam !== 'msgpack') {
      refuse('400 Bad Request', 'bad_enc', 'enc must be json or msgpack');
      return;
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    const token = bearer ?? query.get('token') ?? '';
    let claims: VerifiedToken;
    try {
      claims = this.options.verifyToken(token);
    } catch (err) {
      if (err instanceof AuthError) refuse('401 Unauthorized', err.reason, `unauthorized: ${err.reason}`);
      else {
        this.log.error({ err }, 'token verification failed');
        refuse('500 Internal Server Error', 'error', 'token verification failed');
      }
      return;
    }
    const gatewayLog = this.log;
    let log: Logger | null = null;
    const conn: Connection = {
      id: ++this.nextConnectionId,
      userId: claims.userId,
      sessionId: randomUUID(),
      enc: encParam === 'msgpack' ? 1 : 0,
      exp: claims.exp,
      ip,
      userAgent,
      connectedAt: Date.now(),
      ws: null,
      get log(): Logger {
        log ??= gatewayLog.child({ conn: this.id, user: this.userId, session: this.sessionId });
        return log;
      },
      verdicts: new FrameVerdicts(MAX_CONSECUTIVE_BAD_FRAMES),
      inflight: 0,
      draining: true,
      held: [],
      heldBytes: 0,
      heldLimit: this.options.socketBacklogBytes,
      closing: null,
      drained: null,
      closed: false,
      lastActivity: Date.now(),
      expiryTimer: null,
    };
    res.upgrade(conn, secKey, protocol, extensions, context as never);
  }

  private open(ws: WebSocket<Connection>): void {
    const conn = ws.getUserData();
    conn.ws = ws;
    this.connections.set(conn.id, conn);
    // Counted before anything is published to it: workers read this to pick the encodings to make.
    Atomics.add(this.encodingCounts, ENCODING_COUNTER[encodingOf(conn.enc)], 1);
    this.metrics.connections.inc();
    this.metrics.connectionsTotal.inc();
    this.armExpiry(conn);
    const hello = {
      ev: 'hello', user_id: conn.userId, session_id: conn.sessionId, node: this.options.nodeId,
      server_time: Date.now(), limits: { ...this.options.limits, ...BOUNDS },
    };
    this.outgoing.write(conn, encodeFrame(hello, encodingOf(conn.enc)), conn.enc === 1, false);
    // Collect this connection's events (users.add) before announcing presence, so a
    // message committed in between is either published to it or queued for it.
    this.users.add(conn);
    this.presence
      .connected(conn)
      .then(() => drainOfflineQueue(conn, this.options.redis, this.options.keys, this.outgoing, this.delivery))
      .then((sent) => {
        if (sent > 0) conn.log.debug({ sent }, 'offline queue delivered');
      })
      .catch((err: unknown) => {
        conn.log.error({ err }, 'presence or offline queue failed on connect');
        this.delivery.release(conn);
      });
  }

  private armExpiry(conn: Connection): void {
    if (conn.exp === null) return;
    const delay = conn.exp - Date.now();
    conn.expiryTimer = setTimeout(() => {
      if (conn.closed || conn.closing) return;
      if (Date.now() >= (conn.exp ?? 0)) this.closeConnection(conn, CloseCode.TokenExpired, 'token expired');
      else this.armExpiry(conn);
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)));
    conn.expiryTimer.unref();
  }

  private closed(ws: WebSocket<Connection>, code: number): void {
    const conn = ws.getUserData();
    conn.closed = true;
    conn.ws = null;
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    if (conn.closing) clearTimeout(conn.closing.timer);
    conn.held = [];
    if (!this.connections.delete(conn.id)) return;
    Atomics.sub(this.encodingCounts, ENCODING_COUNTER[encodingOf(conn.enc)], 1);
    this.users.remove(conn);
    this.metrics.connections.dec();
    conn.log.debug({ code }, 'connection closed');
    const departure = this.presence.disconnected(conn).catch((err: unknown) => conn.log.warn({ err }, 'presence clean-up failed'));
    this.departures.add(departure);
    void departure.finally(() => this.departures.delete(departure));
  }

  private readyz(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    this.options.readiness().then(
      (r) => outsideUwsCallbacks(() => {
        if (!aborted) res.cork(() => res.writeStatus(r.ready ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json').end(JSON.stringify(r)));
      }),
      (err: unknown) => outsideUwsCallbacks(() => {
        this.log.error({ err }, 'readiness check failed');
        if (!aborted) res.cork(() => res.writeStatus('503 Service Unavailable').end('{"ready":false}'));
      }),
    );
  }

  /** An extra route (GatewayOptions.extraRoutes): synchronous, answered inside this callback. */
  private jsonRoute(res: HttpResponse, body: () => unknown): void {
    let text: string;
    try {
      text = JSON.stringify(body());
    } catch (err) {
      this.log.error({ err }, 'an extra route failed');
      res.cork(() => res.writeStatus('500 Internal Server Error').end());
      return;
    }
    res.cork(() => res.writeHeader('content-type', 'application/json').end(text));
  }

  private metricsEndpoint(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    this.metrics.requestsInFlight.set(this.router.inflight);
    this.metrics.registry.metrics().then(
      (text) => outsideUwsCallbacks(() => {
        if (!aborted) res.cork(() => res.writeHeader('content-type', this.metrics.registry.contentType).end(text));
      }),
      (err: unknown) => outsideUwsCallbacks(() => {
        this.log.error({ err }, 'metrics collection failed');
        if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
      }),
    );
  }
}

/**
 * The WebSocket library's own frame cap: frames over max_frame_bytes and under it
 * are read (and answered with 1009), frames over it are cut by the library with
 * 1006. 16 MiB, or 16 frames' worth when that is more (each connection may hold one
 * frame in progress: the cap bounds that memory).
 */
export function maxPayloadFor(maxFrameBytes: number): number {
  return Math.min(Math.max(maxFrameBytes * 16, 16 * 1024 * 1024), 1024 * 1024 * 1024);
}

function validate(o: GatewayOptions): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError(`Gateway option port must be 0..65535, got ${o.port}`);
  if (!(o.socketBacklogBytes >= 64 * 1024)) throw new TypeError(`Gateway option socketBacklogBytes must be at least 65536, got ${o.socketBacklogBytes}`);
  if (!o.nodeId) throw new TypeError('Gateway option nodeId is required');
}
