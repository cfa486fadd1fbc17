/**
 * The frame head: what the main thread needs to route a frame, read from its
 * bytes without decoding it (DESIGN.md "Hot path"), and exactly what the decoder
 * in the worker will see (PROTOCOL.md §3: "what routes a request is exactly what
 * runs").
 *
 * A byte search for `"op"` is not enough: JSON.parse keeps the last of two equal
 * keys, a key may be spelled with escapes (`"\u006fp"`), and the same bytes may
 * sit inside metadata. So the scanner walks the whole frame once, structurally:
 * it reads every top-level key (unescaped exactly as JSON.parse would) and
 * captures the routing fields (`id`, `op`, `conversation_id`, `user_id`), and it
 * walks nested values only to skip them. On the way it refuses what the decoder
 * or PostgreSQL would silently change or refuse later, so one bad frame fails
 * alone and at the edge:
 *
 * - a repeated top-level key (the decoder would keep one of them);
 * - nesting deeper than the limit (structured cloning and JSON handling recurse);
 * - in strings: NUL characters and lone UTF-16 surrogates (PostgreSQL's jsonb and
 *   text refuse the first; the second would turn into U+FFFD on the way);
 * - MessagePack only: strings that are not valid UTF-8 (msgpackr would decode
 *   them to U+FFFD), map keys that are not strings (they would be stringified and
 *   could collide), extension types (not part of the protocol; msgpackr would
 *   build objects of its own), non-finite floats and integers past 2^53 (no JSON
 *   equivalent), and the key `__proto__` (msgpackr renames it);
 * - JSON only: numbers that overflow to Infinity.
 *
 * The walk is linear in the frame's size whatever its shape: every search moves
 * forward, and nesting is bounded before anything recurses.
 */
import { isUtf8 } from 'node:buffer';
import { decodeFrame } from './codec.ts';
import { badRequest, type WhisprError } from './errors.ts';
import { findRequestId } from './frame-id.ts';
import type { RequestId } from './requests.ts';

export interface FrameHead {
  /** The top-level `id` when it is a usable request id (string of at most 128 characters, or a safe integer). */
  id: RequestId | null;
  /** Whether the frame has an `id` that is not usable (so replies carry `re: null`). */
  badId: boolean;
  /** The top-level `op` when it is a string; `opType` says what it was otherwise. */
  op: string | null;
  opType: ValueKind | null;
  /** The top-level `conversation_id` when it is a string (not checked to be a UUID here). */
  conversationId: string | null;
  /** The top-level `user_id` when it is a string (conv.direct routes on it). */
  userId: string | null;
}

export type ValueKind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array' | 'bytes';

/**
 * Why a frame cannot be routed. `undecodable` frames (not JSON / MessagePack, or
 * not an object) are answered with `re: null` and count towards the 1008 close;
 * the others are objects whose content is refused, answered with their id.
 */
export type ScanFailure =
  | { kind: 'undecodable'; error: WhisprError }
  | { kind: 'refused'; error: WhisprError; id: RequestId | null };

export type ScanResult = { ok: true; head: FrameHead } | { ok: false; failure: ScanFailure };

/** Deepest nesting a frame may have: the request object itself is level 1 (announced in hello). */
export const MAX_NESTING_DEPTH = 32;

const MAX_ID_LENGTH = 128;
const ROUTING_KEYS = new Set(['id', 'op', 'conversation_id', 'user_id']);

class Refusal extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(reason);
  }
}
/** The bytes are not a well-formed value of the encoding. */
class Malformed extends Error {}

function head(): FrameHead {
  return { id: null, badId: false, op: null, opType: null, conversationId: null, userId: null };
}

function capture(h: FrameHead, key: string, kind: ValueKind, value: string | number | null): void {
  switch (key) {
    case 'id':
      if (kind === 'string' && typeof value === 'string' && value.length <= MAX_ID_LENGTH) h.id = value;
      else if (kind === 'number' && typeof value === 'number' && Number.isSafeInteger(value)) h.id = value;
      else h.badId = true;
      return;
    case 'op':
      h.opType = kind;
      if (kind === 'string' && typeof value === 'string') h.op = value;
      return;
    case 'conversation_id':
      if (kind === 'string' && typeof value === 'string') h.conversationId = value;
      return;
    case 'user_id':
      if (kind === 'string' && typeof value === 'string') h.userId = value;
      return;
  }
}

// ---------------------------------------------------------------- JSON

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `"__proto__"` with its quotes. */
const PROTO_KEY_LENGTH = 11;

const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

class JsonScanner {
  pos = 0;
  readonly h = head();
  /** Next backslash at or after `pos`, cached so the searches stay linear (-1: none left). */
  private nextBackslash = -2;

  constructor(private readonly b: Buffer, private readonly maxDepth: number) {}

  private space(): void {
    const b = this.b;
    while (this.pos < b.length && isJsonSpace(b[this.pos]!)) this.pos++;
  }

  private backslashFrom(i: number): number {
    if (this.nextBackslash === -1) return -1;
    if (this.nextBackslash < i) this.nextBackslash = this.b.indexOf(BACKSLASH, i);
    return this.nextBackslash;
  }

  /**
   * Skips the string whose opening quote is at `pos`, checking its escapes; `pos`
   * ends just after the closing quote. Returns whether it had escapes.
   */
  private string(field: string): boolean {
    const b = this.b;
    let i = this.pos + 1;
    let escaped = false;
    for (;;) {
      const q = b.indexOf(QUOTE, i);
      if (q < 0) throw new Malformed();
      const bs = this.backslashFrom(i);
      if (bs < 0 || bs > q) {
        this.pos = q + 1;
        return escaped;
      }
      escaped = true;
      i = this.escape(bs, field);
    }
  }

  /** Checks the escape at `bs` (a backslash) and returns the position after it. */
  private escape(bs: number, field: string): number {
    const b = this.b;
    const e = b[bs + 1];
    if (e !== 0x75 /* u */) {
      if (e === undefined) throw new Malformed();
      return bs + 2;
    }
    const unit = this.hex4(bs + 2);
    if (unit === 0) throw new Refusal(field, 'strings must not contain NUL characters');
    if (unit >= 0xdc00 && unit <= 0xdfff) throw new Refusal(field, 'strings must not contain lone UTF-16 surrogates');
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = b[bs + 6] === BACKSLASH && b[bs + 7] === 0x75 ? this.hex4(bs + 8) : -1;
      if (low < 0xdc00 || low > 0xdfff) throw new Refusal(field, 'strings must not contain lone UTF-16 surrogates');
      return bs + 12;
    }
    return bs + 6;
  }

  private hex4(at: number): number {
    if (at + 4 > this.b.length) throw new Malformed();
    const text = this.b.toString('latin1', at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(text)) throw new Malformed();
    return Number.parseInt(text, 16);
  }

  /**
   * A number token at `pos`, checked to be finite; `pos` ends after it. Its value
   * is computed only when asked for, or when it could overflow (an exponent, or
   * more digits than a double's range).
   */
  private number(field: string, keep = false): number {
    const b = this.b;
    const start = this.pos;
    let exponent = false;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e) this.pos++;
      else if (c === 0x65 || c === 0x45) {
        exponent = true;
        this.pos++;
      } else break;
    }
    if (this.pos === start) throw new Malformed();
    if (!keep && !exponent && this.pos - start < 300) return 0;
    const value = Number(b.toString('latin1', start, this.pos));
    if (Number.isNaN(value)) throw new Malformed();
    if (!Number.isFinite(value)) throw new Refusal(field, 'numbers must be finite');
    return value;
  }

  private literal(word: string): void {
    if (this.b.toString('latin1', this.pos, this.pos + word.length) !== word) throw new Malformed();
    this.pos += word.length;
  }

  /** Skips one value at `pos` (nested at `depth`), returning its kind. */
  private value(field: string, depth: number): ValueKind {
    const c = this.b[this.pos];
    switch (c) {
      case QUOTE:
        this.string(field);
        return 'string';
      case 0x7b: // {
      case 0x5b: // [
        this.nested(field, depth + 1);
        return c === 0x7b ? 'object' : 'array';
      case 0x74:
        this.literal('true');
        return 'boolean';
      case 0x66:
        this.literal('false');
        return 'boolean';
      case 0x6e:
        this.literal('null');
        return 'null';
      default:
        this.number(field);
        return 'number';
    }
  }

  /** Skips an object or array opening at `pos` that sits at nesting level `depth`. */
  private nested(field: string, depth: number): void {
    if (depth > this.maxDepth) throw new Refusal(field, `nested deeper than ${this.maxDepth} levels`);
    const b = this.b;
    const object = b[this.pos] === 0x7b;
    const close = object ? 0x7d : 0x5d;
    this.pos++;
    this.space();
    if (b[this.pos] === close) {
      this.pos++;
      return;
    }
    for (;;) {
      if (object) {
        if (b[this.pos] !== QUOTE) throw new Malformed();
        const keyStart = this.pos;
        const escaped = this.string(field);
        if (escaped || this.pos - keyStart === PROTO_KEY_LENGTH) this.checkNestedKey(keyStart, escaped, field);
        this.space();
        if (b[this.pos] !== 0x3a) throw new Malformed();
        this.pos++;
        this.space();
      }
      this.value(field, depth);
      this.space();
      const c = b[this.pos];
      this.pos++;
      if (c === close) return;
      if (c !== 0x2c) throw new Malformed();
      this.space();
    }
  }

  /** Nested keys are not read, except to refuse `__proto__` (MessagePack frames refuse it too: one rule for both). */
  private checkNestedKey(keyStart: number, escaped: boolean, field: string): void {
    const raw = this.b.toString('utf8', keyStart, this.pos);
    const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    if (key === '__proto__') throw new Refusal(field, 'the key __proto__ is reserved');
  }

  scan(): FrameHead {
    const b = this.b;
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.pos = 3; // the decoder drops a BOM too
    this.space();
    if (b[this.pos] !== 0x7b) throw new Malformed();
    this.pos++;
    const h = this.h;
    const seen = new Set<string>();
    this.space();
    if (b[this.pos] === 0x7d) {
      this.pos++;
    } else {
      for (;;) {
        if (b[this.pos] !== QUOTE) throw new Malformed();
        const keyStart = this.pos;
        const escaped = this.string('(a key)');
        const key = escaped ? (JSON.parse(b.toString('utf8', keyStart, this.pos)) as string) : b.toString('utf8', keyStart + 1, this.pos - 1);
        if (seen.has(key)) {
          if (key === 'id') h.id = null;
          throw new Refusal(key, 'repeats a key of the request');
        }
        if (key === '__proto__') throw new Refusal(key, 'the key __proto__ is reserved');
        seen.add(key);
        this.space();
        if (b[this.pos] !== 0x3a) throw new Malformed();
        this.pos++;
        this.space();
        const field = key;
        if (ROUTING_KEYS.has(key)) this.routingValue(h, key, field);
        else this.value(field, 1);
        this.space();
        const c = b[this.pos];
        this.pos++;
        if (c === 0x7d) break;
        if (c !== 0x2c) throw new Malformed();
        this.space();
      }
    }
    this.space();
    if (this.pos !== b.length) throw new Malformed();
    return h;
  }

  private routingValue(h: FrameHead, key: string, field: string): void {
    const start = this.pos;
    const c = this.b[start];
    if (c === QUOTE) {
      const escaped = this.string(field);
      const text = escaped ? (JSON.parse(this.b.toString('utf8', start, this.pos)) as string) : this.b.toString('utf8', start + 1, this.pos - 1);
      capture(h, key, 'string', text);
    } else if (c !== undefined && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      capture(h, key, 'number', this.number(field, true));
    } else {
      capture(h, key, this.value(field, 1), null);
    }
  }
}

// ---------------------------------------------------------------- MessagePack

class MsgpackScanner {
  pos = 0;
  readonly h = head();

  constructor(private readonly b: Buffer, private readonly maxDepth: number) {}

  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new Malformed();
  }

  private u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  private uint(bytes: 1 | 2 | 4): number {
    this.need(bytes);
    const v = bytes === 1 ? this.b.readUInt8(this.pos) : bytes === 2 ? this.b.readUInt16BE(this.pos) : this.b.readUInt32BE(this.pos);
    this.pos += bytes;
    return v;
  }

  /** Checks the str of `len` bytes at `pos` (valid UTF-8, no NUL) and moves past it; returns where it started. */
  private strBytes(len: number, field: string): number {
    this.need(len);
    const b = this.b;
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    // Short ASCII strings (keys, types, ids) are checked in place; anything else by the native validator.
    let ascii = len <= 64;
    for (let i = start; ascii && i < end; i++) {
      const c = b[i]!;
      if (c === 0) throw new Refusal(field, 'strings must not contain NUL characters');
      if (c >= 0x80) ascii = false;
    }
    if (!ascii) {
      const bytes = b.subarray(start, end);
      if (!isUtf8(bytes)) throw new Refusal(field, 'strings must be valid UTF-8');
      if (bytes.indexOf(0) >= 0) throw new Refusal(field, 'strings must not contain NUL characters');
    }
    return start;
  }

  private str(len: number, field: string): string {
    const start = this.strBytes(len, field);
    return this.b.toString('utf8', start, start + len);
  }

  /** If the byte at `pos` starts a str, its length (and `pos` moved past the header); else null. */
  private strHeader(): number | null {
    const c = this.b[this.pos];
    if (c === undefined) throw new Malformed();
    if ((c & 0xe0) === 0xa0) {
      this.pos++;
      return c & 0x1f;
    }
    if (c === 0xd9 || c === 0xda || c === 0xdb) {
      this.pos++;
      return this.uint(c === 0xd9 ? 1 : c === 0xda ? 2 : 4);
    }
    return null;
  }

  private key(field: string): string {
    const len = this.strHeader();
    if (len === null) throw new Refusal(field, 'map keys must be strings');
    const key = this.str(len, field);
    if (key === '__proto__') throw new Refusal(field, 'the key __proto__ is reserved');
    return key;
  }

  private bigUint(field: string): number {
    this.need(8);
    const v = this.b.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Refusal(field, 'integers must be within ±2^53');
    return Number(v);
  }

  private bigInt(field: string): number {
    this.need(8);
    const v = this.b.readBigInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Refusal(field, 'integers must be within ±2^53');
    return Number(v);
  }

  private float(bytes: 4 | 8, field: string): number {
    this.need(bytes);
    const v = bytes === 4 ? this.b.readFloatBE(this.pos) : this.b.readDoubleBE(this.pos);
    this.pos += bytes;
    if (!Number.isFinite(v)) throw new Refusal(field, 'numbers must be finite');
    return v;
  }

  private skipBytes(len: number): void {
    this.need(len);
    this.pos += len;
  }

  /** The string or number the last `value` call read, when asked to keep it. */
  private last: string | number | null = null;

  private string(len: number, field: string, keep: boolean): ValueKind {
    if (keep) this.last = this.str(len, field);
    else this.strBytes(len, field);
    return 'string';
  }

  private num(value: number): ValueKind {
    this.last = value;
    return 'number';
  }

  /**
   * Reads one value at `pos` nested at `depth`; returns its kind. With `keep`, a
   * string's or number's value is left in `last` (only routing fields need it).
   */
  private value(field: string, depth: number, keep = false): ValueKind {
    this.last = null;
    const c = this.u8();
    if (c <= 0x7f) return this.num(c);
    if (c >= 0xe0) return this.num(c - 0x100);
    if ((c & 0xf0) === 0x80) return this.map(c & 0x0f, field, depth + 1);
    if ((c & 0xf0) === 0x90) return this.array(c & 0x0f, field, depth + 1);
    if ((c & 0xe0) === 0xa0) return this.string(c & 0x1f, field, keep);
    switch (c) {
      case 0xc0:
        return 'null';
      case 0xc2:
      case 0xc3:
        return 'boolean';
      case 0xc4:
      case 0xc5:
      case 0xc6:
        this.skipBytes(this.uint(c === 0xc4 ? 1 : c === 0xc5 ? 2 : 4));
        return 'bytes';
      case 0xca:
        return this.num(this.float(4, field));
      case 0xcb:
        return this.num(this.float(8, field));
      case 0xcc:
        return this.num(this.uint(1));
      case 0xcd:
        return this.num(this.uint(2));
      case 0xce:
        return this.num(this.uint(4));
      case 0xcf:
        return this.num(this.bigUint(field));
      case 0xd0:
        this.need(1);
        return this.num(this.b.readInt8(this.pos++));
      case 0xd1: {
        this.need(2);
        const v = this.b.readInt16BE(this.pos);
        this.pos += 2;
        return this.num(v);
      }
      case 0xd2: {
        this.need(4);
        const v = this.b.readInt32BE(this.pos);
        this.pos += 4;
        return this.num(v);
      }
      case 0xd3:
        return this.num(this.bigInt(field));
      case 0xd9:
        return this.string(this.uint(1), field, keep);
      case 0xda:
        return this.string(this.uint(2), field, keep);
      case 0xdb:
        return this.string(this.uint(4), field, keep);
      case 0xdc:
        return this.array(this.uint(2), field, depth + 1);
      case 0xdd:
        return this.array(this.uint(4), field, depth + 1);
      case 0xde:
        return this.map(this.uint(2), field, depth + 1);
      case 0xdf:
        return this.map(this.uint(4), field, depth + 1);
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        throw new Refusal(field, 'MessagePack extension types are not part of the protocol');
      default: // 0xc1 is never used
        throw new Malformed();
    }
  }

  private array(count: number, field: string, depth: number): ValueKind {
    if (depth > this.maxDepth) throw new Refusal(field, `nested deeper than ${this.maxDepth} levels`);
    // Every item takes at least one byte: a count beyond what is left is truncated data, found without looping.
    if (count > this.b.length - this.pos) throw new Malformed();
    for (let i = 0; i < count; i++) this.value(field, depth);
    return 'array';
  }

  private map(count: number, field: string, depth: number): ValueKind {
    if (depth > this.maxDepth) throw new Refusal(field, `nested deeper than ${this.maxDepth} levels`);
    if (count * 2 > this.b.length - this.pos) throw new Malformed();
    for (let i = 0; i < count; i++) {
      this.key(field);
      this.value(field, depth);
    }
    return 'object';
  }

  scan(): FrameHead {
    const c = this.u8();
    let count: number;
    if ((c & 0xf0) === 0x80) count = c & 0x0f;
    else if (c === 0xde) count = this.uint(2);
    else if (c === 0xdf) count = this.uint(4);
    else throw new Malformed();
    if (count * 2 > this.b.length - this.pos) throw new Malformed();
    const h = this.h;
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const key = this.key('(a key)');
      if (seen.has(key)) {
        if (key === 'id') h.id = null;
        throw new Refusal(key, 'repeats a key of the request');
      }
      seen.add(key);
      if (ROUTING_KEYS.has(key)) {
        const kind = this.value(key, 1, true);
        capture(h, key, kind, this.last);
      } else this.value(key, 1);
    }
    if (this.pos !== this.b.length) throw new Malformed();
    return h;
  }
}

// ---------------------------------------------------------------- entry

/** Whether the bytes decode at all (used only to word an error: "not an object" or "not valid ..."). */
function decodes(buf: Buffer, isBinary: boolean): boolean {
  try {
    decodeFrame(buf, isBinary ? 'msgpack' : 'json');
    return true;
  } catch {
    // Not decodable: the caller words it so.
    return false;
  }
}

export interface ScanOptions {
  /** Deepest nesting allowed (default MAX_NESTING_DEPTH). */
  maxDepth?: number;
}

/**
 * Reads a frame's head (see the file comment). Never throws: a frame that cannot
 * be routed comes back as a failure carrying the coded error to answer with.
 */
export function scanFrame(bytes: Uint8Array, isBinary: boolean, options: ScanOptions = {}): ScanResult {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxDepth = options.maxDepth ?? MAX_NESTING_DEPTH;
  const scanner = isBinary ? new MsgpackScanner(buf, maxDepth) : new JsonScanner(buf, maxDepth);
  try {
    return { ok: true, head: scanner.scan() };
  } catch (err) {
    if (err instanceof Refusal) {
      // Answered with the request id, wherever it stands in the frame (a repeated id: re null).
      const id = findRequestId(buf, isBinary);
      return { ok: false, failure: { kind: 'refused', error: badRequest(err.field, err.reason), id } };
    }
    if (err instanceof Malformed || err instanceof SyntaxError || err instanceof RangeError) {
      const encoding = isBinary ? 'MessagePack' : 'JSON';
      const message = decodes(buf, isBinary) ? 'frame is not an object' : `frame is not valid ${encoding}`;
      return { ok: false, failure: { kind: 'undecodable', error: badRequest('', message) } };
    }
    throw err;
  }
}
