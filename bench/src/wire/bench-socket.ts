/**
 * A lean WebSocket client for the load generator: raw `ws` + plain MessagePack,
 * callbacks instead of promises on the hot path, integer request ids. The SDK in
 * packages/client is the friendly client; this one exists because the generator
 * shares two cores with the service and must stay cheap per frame.
 */
import WebSocket from 'ws';
import { decodeServerFrame, encodeFrame, type HelloEvent, type Limits } from '@whispr/protocol';
import { now } from '../util/time.ts';

export interface ReplyFrame {
  re: number | string | null;
  ok: boolean;
  error?: { code: string; message: string; retry_after_ms?: number };
  [field: string]: unknown;
}
export interface EventFrame {
  ev: string;
  [field: string]: unknown;
}
export type ReplyHandler = (reply: ReplyFrame, at: number) => void;
export type EventHandler = (event: EventFrame, at: number) => void;

/** Error code the bench gives to requests whose connection closed before a reply. */
export const CONNECTION_CLOSED = 'connection_closed';

export interface ConnectOptions {
  /** ws://host:port/ws */
  url: string;
  token: string;
  /** Source address (127.0.0.x) so many connections fit in the ephemeral port range. */
  localAddress?: string;
  timeoutMs?: number;
}

export class RequestFailed extends Error {
  constructor(
    readonly op: string,
    readonly reply: ReplyFrame,
  ) {
    super(`${op} failed: ${reply.error?.code ?? '?'}: ${reply.error?.message ?? ''}`);
  }
}

export class BenchSocket {
  onEvent: EventHandler | null = null;
  onClose: ((code: number) => void) | null = null;
  private readonly pending = new Map<number, ReplyHandler>();
  private nextId = 1;

  private constructor(
    private readonly ws: WebSocket,
    readonly hello: HelloEvent,
  ) {}

  /** Opens a msgpack connection and resolves once the server's `hello` arrived. */
  static connect(options: ConnectOptions): Promise<BenchSocket> {
    const url = `${options.url}?enc=msgpack&token=${encodeURIComponent(options.token)}`;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    ws.binaryType = 'nodebuffer';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no hello within ${options.timeoutMs ?? 15000} ms`)), options.timeoutMs ?? 15000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode ?? '?'}`)));
      ws.once('error', fail);
      ws.once('close', (code) => fail(new Error(`closed before hello (${code})`)));
      ws.once('message', (data: Buffer, isBinary: boolean) => {
        const frame = decodeServerFrame(data, isBinary ? 'msgpack' : 'json') as EventFrame;
        if (frame.ev !== 'hello') return fail(new Error(`expected hello, got ${JSON.stringify(frame).slice(0, 200)}`));
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new BenchSocket(ws, frame as unknown as HelloEvent));
      });
    }).then((socket) => {
      (socket as BenchSocket).attach();
      return socket as BenchSocket;
    });
  }

  get userId(): string {
    return this.hello.user_id;
  }

  get limits(): Limits {
    return this.hello.limits;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one request; `onReply` runs once, with a synthetic error if the connection closes first. */
  request(op: string, fields: Record<string, unknown>, onReply: ReplyHandler): number {
    const id = this.nextId++;
    if (!this.isOpen) {
      // Later, not now: a caller that refills its window from the reply must not recurse.
      queueMicrotask(() => onReply({ re: id, ok: false, error: { code: CONNECTION_CLOSED, message: 'not open' } }, now()));
      return id;
    }
    this.pending.set(id, onReply);
    this.ws.send(encodeFrame({ id, op, ...fields }, 'msgpack'));
    return id;
  }

  /** Promise form for set-up steps; rejects on an error reply. */
  call(op: string, fields: Record<string, unknown>): Promise<ReplyFrame> {
    return new Promise((resolve, reject) => {
      this.request(op, fields, (reply) => (reply.ok ? resolve(reply) : reject(new RequestFailed(op, reply))));
    });
  }

  /** Closes like a client that leaves. */
  close(): Promise<void> {
    return this.closeWith(() => this.ws.close(1000));
  }

  /** Drops the TCP connection without a close handshake, like a lost network. */
  terminate(): Promise<void> {
    return this.closeWith(() => this.ws.terminate());
  }

  private closeWith(action: () => void): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      action();
    });
  }

  private attach(): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    this.ws.on('error', () => undefined); // 'close' follows and settles everything
    this.ws.on('close', (code) => {
      const at = now();
      const pending = [...this.pending];
      this.pending.clear();
      for (const [id, handler] of pending) handler({ re: id, ok: false, error: { code: CONNECTION_CLOSED, message: `closed ${code}` } }, at);
      this.onClose?.(code);
    });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    const at = now();
    const frame = decodeServerFrame(data, isBinary ? 'msgpack' : 'json') as ReplyFrame & EventFrame;
    if (typeof frame.ev === 'string') {
      this.onEvent?.(frame, at);
      return;
    }
    if (typeof frame.re !== 'number') return;
    const handler = this.pending.get(frame.re);
    if (handler === undefined) return;
    this.pending.delete(frame.re);
    handler(frame, at);
  }
}
