/**
 * Writes a frame tree as MessagePack by hand. Encoders built for correct data
 * dedupe keys, refuse invalid strings and pick their own widths; this one writes
 * what the tree says: repeated map keys, str bodies that are not UTF-8, NaN and
 * infinities as floats, integers as float64 or int64, extension values, and
 * headers wider than needed (a peek that expects str8 meets str16).
 */
import type { FrameNode } from './frame-node.ts';
import type { Resolver } from './encode-json.ts';

class ByteWriter {
  private buf = Buffer.alloc(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatBE(v, this.length);
    this.length += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.length);
    this.length += 8;
  }

  i64(v: bigint): void {
    this.room(8);
    this.buf.writeBigInt64BE(v, this.length);
    this.length += 8;
  }

  u64(v: bigint): void {
    this.room(8);
    this.buf.writeBigUInt64BE(v, this.length);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** The last `n` bytes written, `times` more times. */
  repeatLast(n: number, times: number): void {
    this.room(n * times);
    const start = this.length - n;
    for (let i = 0; i < times; i++) {
      this.buf.copy(this.buf, this.length, start, start + n);
      this.length += n;
    }
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

export function encodeMsgpack(node: FrameNode, resolve: Resolver): Buffer {
  const w = new ByteWriter();
  write(node, resolve, w);
  return w.result();
}

function writeInt(v: number, w: ByteWriter): void {
  if (v >= 0 && v < 0x80) w.u8(v);
  else if (v < 0 && v >= -32) w.u8(v & 0xff);
  else if (v >= 0 && v <= 0xff) { w.u8(0xcc); w.u8(v); }
  else if (v >= 0 && v <= 0xffff) { w.u8(0xcd); w.u16(v); }
  else if (v >= 0 && v <= 0xffffffff) { w.u8(0xce); w.u32(v); }
  else if (v >= -0x80 && v < 0) { w.u8(0xd0); w.u8(v); }
  else if (v >= -0x8000 && v < 0) { w.u8(0xd1); w.u16(v & 0xffff); }
  else if (v >= -0x80000000 && v < 0) { w.u8(0xd2); w.u32(v); }
  else if (v > 0) { w.u8(0xcf); w.u64(BigInt(v)); }
  else { w.u8(0xd3); w.i64(BigInt(v)); }
}

function writeNumber(node: Extract<FrameNode, { t: 'num' }>, w: ByteWriter): void {
  const { v } = node;
  const width = node.width ?? 'auto';
  const integral = Number.isSafeInteger(v) && !Object.is(v, -0);
  if (width === 'f32') { w.u8(0xca); w.f32(v); }
  else if (width === 'i64' && integral) { w.u8(0xd3); w.i64(BigInt(v)); }
  else if (width === 'u64' && integral && v >= 0) { w.u8(0xcf); w.u64(BigInt(v)); }
  else if (width === 'auto' && integral) writeInt(v, w);
  else { w.u8(0xcb); w.f64(v); }
}

function writeStrHeader(length: number, forced: 'str8' | 'str16' | 'str32' | undefined, w: ByteWriter): void {
  if (forced === undefined && length < 32) w.u8(0xa0 | length);
  else if ((forced === undefined || forced === 'str8') && length <= 0xff) { w.u8(0xd9); w.u8(length); }
  else if (forced !== 'str32' && length <= 0xffff) { w.u8(0xda); w.u16(length); }
  else { w.u8(0xdb); w.u32(length); }
}

function writeArrayHeader(count: number, w: ByteWriter): void {
  if (count < 16) w.u8(0x90 | count);
  else if (count <= 0xffff) { w.u8(0xdc); w.u16(count); }
  else { w.u8(0xdd); w.u32(count); }
}

function writeMapHeader(count: number, w: ByteWriter): void {
  if (count < 16) w.u8(0x80 | count);
  else if (count <= 0xffff) { w.u8(0xde); w.u16(count); }
  else { w.u8(0xdf); w.u32(count); }
}

const FIXEXT: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };

function writeExt(type: number, data: Uint8Array, w: ByteWriter): void {
  const fixed = FIXEXT[data.length];
  if (fixed !== undefined) w.u8(fixed);
  else if (data.length <= 0xff) { w.u8(0xc7); w.u8(data.length); }
  else if (data.length <= 0xffff) { w.u8(0xc8); w.u16(data.length); }
  else { w.u8(0xc9); w.u32(data.length); }
  w.u8(type);
  w.bytes(data);
}

function write(node: FrameNode, resolve: Resolver, w: ByteWriter): void {
  switch (node.t) {
    case 'nil':
      w.u8(0xc0);
      return;
    case 'bool':
      w.u8(node.v ? 0xc3 : 0xc2);
      return;
    case 'num':
      writeNumber(node, w);
      return;
    case 'bigint':
      if (node.v >= 0n && node.v <= U64_MAX) { w.u8(0xcf); w.u64(node.v); }
      else if (node.v < 0n && node.v >= I64_MIN) { w.u8(0xd3); w.i64(node.v); }
      else { w.u8(0xcb); w.f64(Number(node.v)); }
      return;
    case 'str': {
      const bytes = Buffer.from(node.v, 'utf8');
      writeStrHeader(bytes.length, node.mp, w);
      w.bytes(bytes);
      return;
    }
    case 'utf8':
      writeStrHeader(node.bytes.length, undefined, w);
      w.bytes(node.bytes);
      return;
    case 'bin':
      if (node.bytes.length <= 0xff) { w.u8(0xc4); w.u8(node.bytes.length); }
      else if (node.bytes.length <= 0xffff) { w.u8(0xc5); w.u16(node.bytes.length); }
      else { w.u8(0xc6); w.u32(node.bytes.length); }
      w.bytes(node.bytes);
      return;
    case 'arr':
      writeArrayHeader(node.items.length, w);
      for (const item of node.items) write(item, resolve, w);
      return;
    case 'map':
      writeMapHeader(node.entries.length, w);
      for (const [key, value] of node.entries) {
        write(key, resolve, w);
        write(value, resolve, w);
      }
      return;
    case 'nest':
      for (let i = 0; i < node.depth; i++) {
        if (node.container === 'arr') w.u8(0x91);
        else { w.u8(0x81); w.u8(0xa1); w.u8(0x61); }
      }
      write(node.leaf, resolve, w);
      return;
    case 'repeat': {
      writeArrayHeader(node.count, w);
      if (node.count === 0) return;
      const before = w.length;
      write(node.item, resolve, w);
      w.repeatLast(w.length - before, node.count - 1);
      return;
    }
    case 'ext':
      writeExt(node.type, node.data, w);
      return;
    case 'raw':
      w.bytes(node.msgpack);
      return;
    case 'ref':
      write(resolve(node.ref), resolve, w);
      return;
  }
}
