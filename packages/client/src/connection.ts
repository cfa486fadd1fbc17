/**
 * One WebSocket session with a Whispr node: the hello handshake, request/reply
 * matching, event dispatch and close. WhisprClient adds the typed operations on top.
 */
import WebSocket from 'ws';
import type { Encoding, HelloEvent, Op, RequestOf } from '@whispr/protocol';
import { TypedEmitter } from './emitter.ts';
import { WhisprConnectionClosedError, WhisprTimeoutError, WhisprUpgradeError } from './errors.ts';
import { KNOWN_SERVER_EVENTS, type AnyServerEvent, type ClientEventName, type ClientEvents, type CloseInfo } from './events.ts';
import { PendingRequests } from './pending.ts';
import type { ResultOf } from '@whispr/protocol';
import { openSocket, type WebSocketConstructor } from './socket.ts';
import { buildRequest, decodeIncoming, encodeRequest, type RawData } from './wire.ts';

export interface ConnectOptions {
  /** ws://host:port/ws */
  url: string;
  /** A JWT whose `sub` is the user's UUID. */
  token: string;
  /** Wire encoding of requests and events. Default 'json'. */
  encoding?: Encoding;
  /** Where the token travels. Default 'header' (Authorization: Bearer). */
  tokenIn?: 'header' | 'query';
  /** Reject a request with WhisprTimeoutError when no reply comes in time. Default 30 000; 0 waits forever. */
  requestTimeoutMs?: number;
  /**
   * Most requests on the wire at once; more wait in the SDK, in order, and go out
   * as replies come back. Default 1024, the service's own per-connection bound
   * (beyond it the service answers rate_limited).
   */
  maxInFlight?: number;
  /** Give up connecting when no hello arrives in time. Default 10 000. */
  connectTimeoutMs?: number;
  /** Another ws-compatible WebSocket class (tests, instrumentation). */
  WebSocketImpl?: WebSocketConstructor;
}

/** The fields of an op's request, without the id and op the SDK fills in. */
export type RequestFields<O extends Op> = Omit<RequestOf<O>, 'id' | 'op'>;

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 1024;
/** What ws reports when the socket ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

interface Held {
  id: number;
  op: string;
  bytes: Uint8Array;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export class Connection extends TypedEmitter<ClientEvents> {
  readonly encoding: Encoding;
  /** Settles once hello arrived (fulfilled) or the connection failed first (rejected). */
  protected readonly opened: Promise<void>;

  private readonly ws: WebSocket;
  private readonly pending = new PendingRequests(() => this.pump());
  /** Requests encoded but held back by maxInFlight, oldest first. */
  private readonly waiting: Array<Held> = [];
  private readonly maxInFlight: number;
  private readonly requestTimeoutMs: number;
  private nextId = 1;
  private helloEvent: HelloEvent | undefined;
  private closeInfo: CloseInfo | undefined;
  private closeWaiters: Array<(info: CloseInfo) => void> = [];
  private upgradeRefusal: WhisprUpgradeError | undefined;
  private connectError: Error | undefined;
  /**
   * Deliveries held back until the caller of connect() has had a chance to attach
   * handlers: ws parses every frame of a TCP chunk synchronously, so events sent
   * right behind hello (queued offline messages) would otherwise fire before anyone listens.
   */
  private early: Array<() => void> | undefined = [];
  private settleOpen: { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | undefined;

  protected constructor(options: ConnectOptions) {
    super();
    this.encoding = options.encoding ?? 'json';
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    // First, so that a bad URL throws before any timer exists.
    this.ws = openSocket({
      url: options.url,
      token: options.token,
      encoding: this.encoding,
      tokenIn: options.tokenIn ?? 'header',
      WebSocketImpl: options.WebSocketImpl,
    });
    this.opened = new Promise<void>((resolve, reject) => {
      const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.connectError = new Error(`no hello from ${options.url} within ${connectTimeoutMs} ms`);
        this.ws.terminate();
      }, connectTimeoutMs);
      this.settleOpen = { resolve, reject, timer };
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.upgradeRefusal = new WhisprUpgradeError(res.statusCode ?? 0, res.statusMessage ?? '');
      res.resume();
      // terminate() aborts the handshake and makes ws emit 'close', which settles connect().
      this.ws.terminate();
    });
    this.ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    this.ws.on('error', (err: Error) => this.onSocketError(err));
    this.ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));
  }

  /** The server's hello: user_id, session_id, node, server_time, limits. */
  get hello(): HelloEvent {
    if (this.helloEvent === undefined) throw new Error('not connected yet: await WhisprClient.connect()');
    return this.helloEvent;
  }

  get userId(): string {
    return this.hello.user_id;
  }

  get limits(): HelloEvent['limits'] {
    return this.hello.limits;
  }

  /** True until the socket has closed. */
  get isOpen(): boolean {
    return this.closeInfo === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Requests held in the SDK because maxInFlight are already on the wire. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Bytes accepted by the socket but not yet handed to the OS. The SDK never drops
   * or refuses a request because of it (ws queues without bound); callers that
   * produce faster than the network drains can watch it, or `queued`, and pause.
   */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Sends one request and resolves with its result (the reply minus re and ok),
   * or rejects with WhisprRequestError (ok: false), WhisprTimeoutError or
   * WhisprConnectionClosedError. Any number may be in flight at once.
   */
  request<O extends Op>(op: O, fields: RequestFields<O>): Promise<ResultOf<O>> {
    return this.call(op, fields) as Promise<ResultOf<O>>;
  }

  /**
   * For ops the protocol package does not validate yet (e.g. msg.edit, typing):
   * the caller is responsible for the field names and types.
   */
  requestUnchecked<O extends string>(op: O, fields: Record<string, unknown> = {}): Promise<ResultOf<O>> {
    return this.call(op, fields) as Promise<ResultOf<O>>;
  }

  /**
   * Sends bytes as they are, as a binary or text frame, bypassing request
   * bookkeeping (tests of malformed input). Their replies arrive as 'reply.unmatched'.
   */
  sendRaw(data: string | Uint8Array, binary: boolean): void {
    if (!this.isOpen) throw this.closedError();
    this.ws.send(data, { binary }, (err) => {
      if (err) this.emitSafely('error', err);
    });
  }

  /**
   * Resolves with the next `event` payload that passes `predicate`; rejects after
   * timeoutMs, or when the connection closes first (unless waiting for 'close').
   */
  waitFor<E extends ClientEventName>(
    event: E,
    predicate: (payload: ClientEvents[E]) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ClientEvents[E]> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.off(event, onEvent);
        if (event !== 'close') this.off('close', onClose);
      };
      const onEvent = (payload: ClientEvents[E]): void => {
        if (!predicate(payload)) return;
        finish();
        resolve(payload);
      };
      const onClose = (info: CloseInfo): void => {
        finish();
        reject(new WhisprConnectionClosedError(info.code, info.reason));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new WhisprTimeoutError(`waitFor(${event})`, null, timeoutMs));
      }, timeoutMs);
      this.on(event, onEvent);
      if (event !== 'close') {
        if (this.closeInfo !== undefined) return onClose(this.closeInfo);
        this.on('close', onClose);
      }
    });
  }

  /** Closes the connection (code 1000 or 3000–4999) and resolves once it is closed. */
  close(code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.closeInfo !== undefined) return Promise.resolve(this.closeInfo);
    const closed = new Promise<CloseInfo>((resolve) => this.closeWaiters.push(resolve));
    try {
      this.ws.close(code, reason);
    } catch (err) {
      // ws refuses codes a client may not send; the connection stays as it was.
      this.closeWaiters.pop();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return closed;
  }

  private call(op: string, fields: object): Promise<Record<string, unknown>> {
    if (!this.isOpen) return Promise.reject(this.closedError());
    const id = this.nextId++;
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest(buildRequest(id, op, fields), this.encoding);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Behind others already waiting, even when a slot is free, so requests keep their order.
    if (this.pending.size < this.maxInFlight && this.waiting.length === 0) return this.transmit(id, op, bytes);
    return new Promise((resolve, reject) => this.waiting.push({ id, op, bytes, resolve, reject }));
  }

  /** Sends held requests while there is room. */
  private pump(): void {
    while (this.waiting.length > 0 && this.pending.size < this.maxInFlight && this.isOpen) {
      const held = this.waiting.shift();
      if (held === undefined) return;
      this.transmit(held.id, held.op, held.bytes).then(held.resolve, held.reject);
    }
  }

  private transmit(id: number, op: string, bytes: Uint8Array): Promise<Record<string, unknown>> {
    const reply = this.pending.add(id, op, this.requestTimeoutMs);
    this.ws.send(bytes, { binary: this.encoding === 'msgpack' }, (err) => {
      if (err) {
        const closed = this.closedError();
        closed.cause = err;
        this.pending.fail(id, closed);
      }
    });
    return reply;
  }

  private closedError(): WhisprConnectionClosedError {
    const info = this.closeInfo ?? { code: ABNORMAL_CLOSURE, reason: 'socket is closing' };
    return new WhisprConnectionClosedError(info.code, info.reason);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const incoming = decodeIncoming(data, isBinary);
    switch (incoming.kind) {
      case 'reply':
        if (!this.pending.settle(incoming.reply)) this.deliver(() => this.emitSafely('reply.unmatched', incoming.reply));
        return;
      case 'event':
        if (incoming.event.ev === 'hello' && this.helloEvent === undefined) return this.onHello(incoming.event);
        this.deliver(() => this.dispatchEvent(incoming.event));
        return;
      case 'invalid':
        this.deliver(() => this.emitSafely('error', incoming.error));
        return;
    }
  }

  private onHello(event: AnyServerEvent): void {
    this.helloEvent = event as unknown as HelloEvent;
    const settle = this.settleOpen;
    this.settleOpen = undefined;
    if (settle === undefined) return;
    clearTimeout(settle.timer);
    settle.resolve();
    // setImmediate runs after the promise continuations of `await connect()`.
    setImmediate(() => this.releaseEarly());
  }

  private releaseEarly(): void {
    const early = this.early ?? [];
    this.early = undefined;
    for (const delivery of early) delivery();
  }

  private deliver(delivery: () => void): void {
    if (this.early !== undefined) this.early.push(delivery);
    else delivery();
  }

  private dispatchEvent(event: AnyServerEvent): void {
    if (KNOWN_SERVER_EVENTS.has(event.ev)) this.emitUnchecked(event.ev as ClientEventName, event);
    this.emitSafely('event', event);
  }

  private onSocketError(err: Error): void {
    // Before hello the error explains why connect() failed; 'close' follows and rejects with it.
    if (this.helloEvent === undefined) {
      this.connectError ??= err;
      return;
    }
    this.deliver(() => this.emitSafely('error', err));
  }

  private onClose(code: number, reason: string): void {
    const info: CloseInfo = { code, reason };
    this.closeInfo = info;
    const closed = new WhisprConnectionClosedError(code, reason);
    for (const held of this.waiting.splice(0)) held.reject(closed);
    this.pending.rejectAll(closed);
    const settle = this.settleOpen;
    this.settleOpen = undefined;
    if (settle !== undefined) {
      clearTimeout(settle.timer);
      settle.reject(this.upgradeRefusal ?? this.connectError ?? new WhisprConnectionClosedError(code, reason));
      this.early = undefined;
      return;
    }
    this.deliver(() => {
      this.emitSafely('close', info);
      const waiters = this.closeWaiters;
      this.closeWaiters = [];
      for (const resolve of waiters) resolve(info);
    });
  }

  private emitUnchecked(event: ClientEventName, payload: unknown): void {
    this.emitSafely(event, payload as ClientEvents[typeof event]);
  }

  private emitSafely<E extends ClientEventName>(event: E, payload: ClientEvents[E]): void {
    this.emit(event, payload, (err) => {
      // A throwing 'error' handler has nowhere left to report to: surface it like Node would.
      if (event === 'error') queueMicrotask(() => { throw err; });
      else this.emitSafely('error', err instanceof Error ? err : new Error(String(err)));
    });
  }
}
