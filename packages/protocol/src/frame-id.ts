/**
 * The request id of a frame the head scanner refused (frame-head.ts), so that
 * its bad_request can still answer with `re` set: clients put `id` anywhere,
 * often after the field that is refused.
 *
 * A lenient walk of the top level only: nothing is checked but the structure,
 * nested values are skipped without recursion (the frame may be nested 20,000
 * deep), and a repeated `id` makes the id unknown. Linear in the frame's size.
 */
import type { RequestId } from './requests.ts';

const MAX_ID_LENGTH = 128;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class NotFound extends Error {}

const usable = (id: unknown): RequestId | null =>
  (typeof id === 'string' && id.length <= MAX_ID_LENGTH) || (typeof id === 'number' && Number.isSafeInteger(id)) ? (id as RequestId) : null;

export function findRequestId(bytes: Uint8Array, isBinary: boolean): RequestId | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return isBinary ? msgpackId(buf) : jsonId(buf);
  } catch (err) {
    if (err instanceof NotFound || err instanceof SyntaxError || err instanceof RangeError) return null;
    throw err;
  }
}

// ---------------------------------------------------------------- JSON

function jsonId(b: Buffer): RequestId | null {
  let pos = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const space = (): void => {
    while (pos < b.length && (b[pos] === 0x20 || b[pos] === 0x0a || b[pos] === 0x0d || b[pos] === 0x09)) pos++;
  };
  /** End (after the closing quote) of the string starting at `at`. */
  const stringEnd = (at: number): number => {
    let i = at + 1;
    for (;;) {
      const q = b.indexOf(QUOTE, i);
      if (q < 0) throw new NotFound();
      let slashes = 0;
      for (let j = q - 1; j > at && b[j] === BACKSLASH; j--) slashes++;
      if (slashes % 2 === 0) return q + 1;
      i = q + 1;
    }
  };
  const skipValue = (): void => {
    const c = b[pos];
    if (c === QUOTE) {
      pos = stringEnd(pos);
      return;
    }
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (pos < b.length) {
        const d = b[pos]!;
        if (d === QUOTE) {
          pos = stringEnd(pos);
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) depth--;
        pos++;
        if (depth === 0) return;
      }
      throw new NotFound();
    }
    while (pos < b.length && b[pos] !== 0x2c && b[pos] !== 0x7d && b[pos] !== 0x5d) pos++;
  };

  space();
  if (b[pos] !== 0x7b) throw new NotFound();
  pos++;
  let id: RequestId | null = null;
  let seen = false;
  for (;;) {
    space();
    if (b[pos] !== QUOTE) throw new NotFound();
    const keyEnd = stringEnd(pos);
    const key = JSON.parse(b.toString('utf8', pos, keyEnd)) as string;
    pos = keyEnd;
    space();
    if (b[pos] !== 0x3a) throw new NotFound();
    pos++;
    space();
    const start = pos;
    skipValue();
    if (key === 'id') {
      if (seen) return null;
      seen = true;
      id = usable(JSON.parse(b.toString('utf8', start, pos)));
    }
    space();
    const c = b[pos++];
    if (c === 0x7d) return id;
    if (c !== 0x2c) throw new NotFound();
  }
}

// ---------------------------------------------------------------- MessagePack

/** Bytes of the header and payload of the value at `pos`, and how many values it contains (map entries count twice). */
function msgpackItem(b: Buffer, pos: number): { size: number; children: number } {
  const c = b[pos];
  if (c === undefined) throw new NotFound();
  const u = (n: 1 | 2 | 4): number => {
    if (pos + 1 + n > b.length) throw new NotFound();
    return n === 1 ? b.readUInt8(pos + 1) : n === 2 ? b.readUInt16BE(pos + 1) : b.readUInt32BE(pos + 1);
  };
  if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return { size: 1, children: 0 };
  if ((c & 0xf0) === 0x80) return { size: 1, children: (c & 0x0f) * 2 };
  if ((c & 0xf0) === 0x90) return { size: 1, children: c & 0x0f };
  if ((c & 0xe0) === 0xa0) return { size: 1 + (c & 0x1f), children: 0 };
  switch (c) {
    case 0xc4: case 0xd9: return { size: 2 + u(1), children: 0 };
    case 0xc5: case 0xda: return { size: 3 + u(2), children: 0 };
    case 0xc6: case 0xdb: return { size: 5 + u(4), children: 0 };
    case 0xc7: return { size: 3 + u(1), children: 0 };
    case 0xc8: return { size: 4 + u(2), children: 0 };
    case 0xc9: return { size: 6 + u(4), children: 0 };
    case 0xca: case 0xce: case 0xd2: return { size: 5, children: 0 };
    case 0xcb: case 0xcf: case 0xd3: return { size: 9, children: 0 };
    case 0xcc: case 0xd0: return { size: 2, children: 0 };
    case 0xcd: case 0xd1: return { size: 3, children: 0 };
    case 0xd4: return { size: 3, children: 0 };
    case 0xd5: return { size: 4, children: 0 };
    case 0xd6: return { size: 6, children: 0 };
    case 0xd7: return { size: 10, children: 0 };
    case 0xd8: return { size: 18, children: 0 };
    case 0xdc: return { size: 3, children: u(2) };
    case 0xdd: return { size: 5, children: u(4) };
    case 0xde: return { size: 3, children: u(2) * 2 };
    case 0xdf: return { size: 5, children: u(4) * 2 };
    default: throw new NotFound();
  }
}

/** Position after the value at `pos`, skipping nested ones with a counter instead of recursion. */
function skipMsgpack(b: Buffer, pos: number): number {
  let remaining = 1;
  while (remaining > 0) {
    const item = msgpackItem(b, pos);
    pos += item.size;
    if (pos > b.length) throw new NotFound();
    remaining += item.children - 1;
    if (remaining > b.length - pos + 1) throw new NotFound();
  }
  return pos;
}

function msgpackId(b: Buffer): RequestId | null {
  const top = msgpackItem(b, 0);
  const c = b[0]!;
  if (!((c & 0xf0) === 0x80 || c === 0xde || c === 0xdf)) throw new NotFound();
  let pos = top.size;
  let id: RequestId | null = null;
  let seen = false;
  for (let i = 0; i < top.children / 2; i++) {
    const keyStart = pos;
    const key = msgpackItem(b, pos);
    pos = skipMsgpack(b, pos);
    const k = b[keyStart]!;
    const isStr = (k & 0xe0) === 0xa0 || k === 0xd9 || k === 0xda || k === 0xdb;
    const keyText = isStr ? b.toString('utf8', keyStart + (key.size - stringLength(b, keyStart)), pos) : null;
    const valueStart = pos;
    pos = skipMsgpack(b, pos);
    if (keyText === 'id') {
      if (seen) return null;
      seen = true;
      id = usable(msgpackScalar(b, valueStart));
    }
  }
  return id;
}

function stringLength(b: Buffer, at: number): number {
  const c = b[at]!;
  if ((c & 0xe0) === 0xa0) return c & 0x1f;
  return c === 0xd9 ? b.readUInt8(at + 1) : c === 0xda ? b.readUInt16BE(at + 1) : b.readUInt32BE(at + 1);
}

/** A string or integer at `at`, or undefined for anything else. */
function msgpackScalar(b: Buffer, at: number): unknown {
  const c = b[at]!;
  if (c <= 0x7f) return c;
  if (c >= 0xe0) return c - 0x100;
  if ((c & 0xe0) === 0xa0 || c === 0xd9 || c === 0xda || c === 0xdb) {
    const len = stringLength(b, at);
    const size = msgpackItem(b, at).size;
    return b.toString('utf8', at + size - len, at + size);
  }
  switch (c) {
    case 0xca: return b.readFloatBE(at + 1);
    case 0xcb: return b.readDoubleBE(at + 1);
    case 0xcc: return b.readUInt8(at + 1);
    case 0xcd: return b.readUInt16BE(at + 1);
    case 0xce: return b.readUInt32BE(at + 1);
    case 0xcf: return Number(b.readBigUInt64BE(at + 1));
    case 0xd0: return b.readInt8(at + 1);
    case 0xd1: return b.readInt16BE(at + 1);
    case 0xd2: return b.readInt32BE(at + 1);
    case 0xd3: return Number(b.readBigInt64BE(at + 1));
    default: return undefined;
  }
}
