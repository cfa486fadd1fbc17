/**
 * One fuzzing connection over a raw `ws` socket: it pipelines frames up to a
 * window, hands every frame the node sends to the oracle, and knows which close
 * it asked for. A frame meant to close the connection goes last (after the
 * frames before it, unanswered yet, so the node must answer them before its
 * close frame); the connection then waits for the close and opens again.
 */
import { BAD_FRAMES_BEFORE_1008 } from '../oracle/contract.ts';
import WebSocket from 'ws';
import type { WireFrame } from '../generate/build-frame.ts';
import type { ExpectedClose, Oracle } from '../oracle/judge.ts';
import { ReplyMatcher } from '../oracle/reply-matcher.ts';
import { classify, decodeServerFrame } from '../oracle/server-frames.ts';
import { now } from '../../util/time.ts';

export interface FuzzConnectionOptions {
  url: string;
  token: string;
  enc: 'json' | 'msgpack';
  oracle: Oracle;
  /** Frames in flight at most (well under the node's 1,024 per connection). */
  window: number;
  replyTimeoutMs: number;
}

export interface Hello {
  user_id: string;
  node: string;
  limits: Record<string, number>;
}

const CONNECT_TIMEOUT_MS = 15_000;
/** A close the node owes comes within milliseconds; this only bounds a wait for one that never comes. */
const CLOSE_TIMEOUT_MS = 5_000;

export class FuzzConnection {
  hello: Hello | null = null;
  /** Frames that may not have decoded to an object since the last one that surely did (the 1008 rule). */
  badRun = 0;
  private ws: WebSocket | null = null;
  private matcher = new ReplyMatcher();
  private expectedClose: ExpectedClose | null = null;
  private lastSent: WireFrame | null = null;
  private closed: Promise<number> = Promise.resolve(0);
  private wake: (() => void) | null = null;
  /** Set while the fuzzer itself cuts a connection that should have closed: that close is not the node's. */
  private terminating = false;

  constructor(private readonly o: FuzzConnectionOptions) {}

  get inFlight(): number {
    return this.matcher.size;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Connects and waits for `hello`. */
  async open(): Promise<Hello> {
    const ws = new WebSocket(`${this.o.url}?enc=${this.o.enc}`, { headers: { authorization: `Bearer ${this.o.token}` }, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    this.matcher = new ReplyMatcher();
    this.expectedClose = null;
    this.badRun = 0;
    const hello = await new Promise<Hello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no hello')), CONNECT_TIMEOUT_MS);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode ?? '?'}`)));
      ws.once('error', reject);
      ws.once('message', (data: Buffer, isBinary: boolean) => {
        clearTimeout(timer);
        const frame = decodeServerFrame(data, isBinary) as Partial<Hello> & { ev?: unknown };
        if (frame.ev !== 'hello' || typeof frame.node !== 'string') reject(new Error(`first frame is not hello: ${data.toString('hex').slice(0, 200)}`));
        else resolve(frame as Hello);
      });
    });
    ws.removeAllListeners();
    ws.on('error', () => undefined); // 'close' follows and says what happened
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(this.onClose(code))));
    this.ws = ws;
    this.hello = hello;
    return hello;
  }

  /**
   * Sends one frame once there is room in the window; a closing frame waits for
   * its close and reopens. A frame that may be answered with `re: null` waits
   * until no other such frame is waiting in its encoding, so that a null reply
   * names its frame as surely as an id would.
   */
  async send(frame: WireFrame): Promise<void> {
    const blocked = (): boolean => this.matcher.size >= this.o.window || (frame.reply !== 'id' && this.matcher.nullableWaiting(frame.binary));
    while (blocked() && this.isOpen) await new Promise<void>((resolve) => (this.wake = resolve));
    if (!this.isOpen) await this.reopen();
    this.transmit(frame, frame.closes !== null);
    if (frame.closes !== null) {
      this.expectedClose = { codes: frame.closes, why: frame.closes.includes(1009) ? 'a frame over max_frame_bytes' : 'a text frame that is not UTF-8', frame };
      await this.awaitCloseThenReopen();
    }
  }

  /** On a quiet connection, 20 frames that cannot be decoded: each gets bad_request, then the node closes with 1008. */
  async streak(frames: readonly WireFrame[]): Promise<void> {
    if (!(await this.quiesce(this.o.replyTimeoutMs))) return;
    if (!this.isOpen) await this.reopen();
    // Frames just before the streak that may not have decoded count towards the node's 20 as well:
    // it may close that many frames early, and the streak's last frames are then read after its
    // close decision, unanswered by right (PROTOCOL.md §3 promises replies to frames read before it).
    const closesBy = Math.max(0, BAD_FRAMES_BEFORE_1008 - this.badRun - 1);
    frames.forEach((frame, i) => this.transmit(frame, i >= closesBy));
    const last = frames[frames.length - 1];
    if (last === undefined) return;
    this.expectedClose = { codes: [1008], why: `${frames.length} consecutive undecodable frames`, frame: last };
    await this.awaitCloseThenReopen();
  }

  /**
   * Frames pipelined at once, past the window and the one-nullable-at-a-time
   * rule (their null replies are all alike): the burst's own pressure is the test.
   */
  async burst(frames: readonly WireFrame[]): Promise<void> {
    while (this.matcher.size > 0 && this.matcher.size + frames.length > this.o.window * 2 && this.isOpen) await new Promise<void>((resolve) => (this.wake = resolve));
    if (!this.isOpen) await this.reopen();
    for (const frame of frames) this.transmit(frame, false);
  }

  /** Waits until every frame sent is answered (or `timeoutMs` passes). */
  async quiesce(timeoutMs: number): Promise<boolean> {
    const deadline = now() + timeoutMs;
    while (this.matcher.size > 0 && this.isOpen && now() < deadline) await new Promise<void>((resolve) => setTimeout(resolve, 5));
    return this.matcher.size === 0 || !this.isOpen;
  }

  /** Frames waiting longer than the reply timeout get a no-reply violation (and free their slot). */
  sweep(at: number): void {
    for (const sent of this.matcher.expire(at - this.o.replyTimeoutMs)) this.o.oracle.unanswered(sent, `no reply within ${this.o.replyTimeoutMs} ms`);
    this.wake?.();
  }

  /** Waits for the last replies, judges what never came, and leaves like a client (1000). */
  async finish(timeoutMs: number): Promise<void> {
    await this.quiesce(timeoutMs);
    for (const sent of this.matcher.drain()) this.o.oracle.unanswered(sent, `no reply within ${timeoutMs} ms at the end of the run`);
    if (!this.isOpen) return;
    this.expectedClose = { codes: [1000], why: 'the fuzzer closing', frame: this.lastSent as WireFrame };
    this.ws?.close(1000);
    await this.closed;
  }

  private transmit(frame: WireFrame, closer: boolean): void {
    this.matcher.add({ frame, sentAt: now(), closer });
    this.badRun = frame.decodes === 'object' ? 0 : this.badRun + 1;
    this.lastSent = frame;
    this.o.oracle.tally.frameSent(frame.binary);
    this.ws?.send(frame.bytes, { binary: frame.binary });
  }

  private async awaitCloseThenReopen(): Promise<void> {
    const expected = this.expectedClose;
    let timer: NodeJS.Timeout | null = null;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)));
    const result = await Promise.race([this.closed, timedOut]);
    if (timer !== null) clearTimeout(timer);
    if (result === 'timeout' && expected !== null) {
      this.o.oracle.stayedOpen(expected);
      this.terminating = true;
      this.ws?.terminate();
      await this.closed;
      this.terminating = false;
    }
    await this.reopen();
  }

  private async reopen(): Promise<void> {
    this.o.oracle.tally.reconnects++;
    await this.open();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let value: unknown;
    try {
      value = decodeServerFrame(data, isBinary);
    } catch {
      this.o.oracle.violations.record('malformed-server-frame', `the node sent a ${isBinary ? 'binary' : 'text'} frame that does not decode: ${data.toString('hex').slice(0, 200)}`, null);
      return;
    }
    this.o.oracle.serverFrame(classify(value), isBinary, this.matcher);
    this.wake?.();
  }

  private onClose(code: number): number {
    const expected = this.expectedClose;
    // Our own 1000 at the end, and our own cut of a connection that stayed open, are not the node's closes.
    const ours = this.terminating || (expected?.codes.length === 1 && expected.codes[0] === 1000 && code === 1000);
    if (ours) {
      this.matcher.drain();
      if (!this.terminating) this.o.oracle.tally.close(code);
    } else {
      this.o.oracle.close(code, expected, this.matcher.drain(), this.badRun, this.lastSent);
    }
    this.expectedClose = null;
    this.wake?.();
    return code;
  }
}
