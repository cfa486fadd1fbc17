/**
 * Collects a shard turn's replies and events and posts them to the gateway as one
 * message with one buffer (transferred, when the shard is a worker thread).
 */
import { encodeFrame, type Encoding } from '@whispr/protocol';
import { ENCODING_COUNTER, encodingOf, type Enc, type EventOut, type OutboxMessage } from './shard-contract.ts';

const EMPTY = new Uint8Array(0);

export class Outbox {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private replies: number[] = [];
  private events: EventOut[] = [];
  private scheduled = false;
  private readonly post: (message: OutboxMessage, transfer: ArrayBuffer[]) => void;

  private readonly inUse: Int32Array;

  constructor(encodingsInUse: SharedArrayBuffer, post: (message: OutboxMessage, transfer: ArrayBuffer[]) => void) {
    this.inUse = new Int32Array(encodingsInUse);
    this.post = post;
  }

  private append(bytes: Uint8Array): number {
    const off = this.size;
    this.chunks.push(bytes);
    this.size += bytes.byteLength;
    this.schedule();
    return off;
  }

  reply(serial: number, conn: number, enc: Enc, frame: unknown, flags: number): void {
    const bytes = encodeFrame(frame, encodingOf(enc));
    const off = this.append(bytes);
    this.replies.push(serial, conn, enc, off, bytes.byteLength, flags);
  }

  /** Whether some connection on the node uses this encoding now. */
  inUseNow(encoding: Encoding): boolean {
    return Atomics.load(this.inUse, ENCODING_COUNTER[encoding]) > 0;
  }

  /**
   * One event to many users, encoded once per encoding (never once per recipient):
   * the encodings in use on this node, or both when it also goes to other nodes
   * (`remote`: per node, its recipients). `json` may carry an encoding made already.
   */
  event(users: string[], frame: unknown, conversationId: string | null = null, seq = 0, json?: Uint8Array, remote: EventOut['remote'] = []): void {
    const all = remote.length > 0;
    const jsonBytes = json ?? (all || this.inUseNow('json') ? encodeFrame(frame, 'json') : EMPTY);
    const mp = all || this.inUseNow('msgpack') ? encodeFrame(frame, 'msgpack') : EMPTY;
    const jsonOff = this.append(jsonBytes);
    const mpOff = this.append(mp);
    this.events.push({ users, jsonOff, jsonLen: jsonBytes.byteLength, mpOff, mpLen: mp.byteLength, conversationId, seq, remote });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.replies.length === 0 && this.events.length === 0) return;
    const buf = new ArrayBuffer(this.size);
    const view = new Uint8Array(buf);
    let at = 0;
    for (const chunk of this.chunks) {
      view.set(chunk, at);
      at += chunk.byteLength;
    }
    const message: OutboxMessage = { type: 'outbox', buf, replies: this.replies, events: this.events };
    this.chunks = [];
    this.size = 0;
    this.replies = [];
    this.events = [];
    this.post(message, [buf]);
  }
}
