/**
 * The routing peek: find a frame's `op` and `conversation_id` without decoding it,
 * so the main thread can hand the raw bytes to the owning worker. A peek is a
 * hint: the worker decodes the frame and re-routes it if the real conversation_id
 * differs (e.g. a nested metadata key matched first). Frames the peek cannot read
 * are decoded in full on the main thread instead.
 */

export interface Peek {
  op: string | null;
  conversationId: string | null;
}

const JSON_ID_KEY = Buffer.from('"id"');
const MP_ID_KEY = Buffer.from([0xa2, 0x69, 0x64]);
const JSON_ID_RE = /^(-?\d{1,15}|"[^"\\]{0,128}")/;

/**
 * The request id, read the same cheap way. Used only to answer a frame the main
 * thread could not hand over or whose worker died; a wrong guess (a nested "id"
 * key) costs a reply the client cannot match, never a wrong write.
 */
export function peekRequestId(bytes: Uint8Array, isBinary: boolean): string | number | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isBinary) {
    const i = jsonValueStart(buf, JSON_ID_KEY);
    if (i < 0) return null;
    const m = JSON_ID_RE.exec(buf.toString('utf8', i, i + 140));
    if (!m || m[1] === undefined) return null;
    return m[1].startsWith('"') ? m[1].slice(1, -1) : Number(m[1]);
  }
  const at = buf.indexOf(MP_ID_KEY);
  if (at < 0) return null;
  const i = at + MP_ID_KEY.length;
  const head = buf[i];
  if (head === undefined) return null;
  if (head <= 0x7f) return head;
  if (head >= 0xe0) return head - 0x100;
  if ((head & 0xe0) === 0xa0 && i + 1 + (head & 0x1f) <= buf.length) return buf.toString('utf8', i + 1, i + 1 + (head & 0x1f));
  if (head === 0xd9 && i + 2 <= buf.length) {
    const len = buf[i + 1] ?? 0;
    return i + 2 + len <= buf.length ? buf.toString('utf8', i + 2, i + 2 + len) : null;
  }
  if (head === 0xcc && i + 2 <= buf.length) return buf.readUInt8(i + 1);
  if (head === 0xcd && i + 3 <= buf.length) return buf.readUInt16BE(i + 1);
  if (head === 0xce && i + 5 <= buf.length) return buf.readUInt32BE(i + 1);
  return null;
}

const JSON_CONV_KEY = Buffer.from('"conversation_id"');
const JSON_OP_KEY = Buffer.from('"op"');
// MessagePack: fixstr(15) "conversation_id", then str8(36) value.
const MP_CONV_KEY = Buffer.from([0xaf, ...Buffer.from('conversation_id')]);
// MessagePack: fixstr(2) "op", then a fixstr value.
const MP_OP_KEY = Buffer.from([0xa2, 0x6f, 0x70]);
const UUID_LEN = 36;

const isUuidByte = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || b === 0x2d;

function readUuidAt(buf: Buffer, start: number): string | null {
  if (start + UUID_LEN > buf.length) return null;
  for (let i = start; i < start + UUID_LEN; i++) if (!isUuidByte(buf[i]!)) return null;
  return buf.toString("latin1", start, start + UUID_LEN);
}

function skipJsonSpace(buf: Buffer, i: number): number {
  while (i < buf.length) {
    const b = buf[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) break;
    i++;
  }
  return i;
}

/** Position just after `"key" :` with surrounding whitespace skipped, or -1. */
function jsonValueStart(buf: Buffer, key: Buffer): number {
  const at = buf.indexOf(key);
  if (at < 0) return -1;
  const i = skipJsonSpace(buf, at + key.length);
  if (buf[i] !== 0x3a) return -1;
  return skipJsonSpace(buf, i + 1);
}

function peekJson(buf: Buffer): Peek {
  let op: string | null = null;
  let conversationId: string | null = null;
  let i = jsonValueStart(buf, JSON_OP_KEY);
  if (i >= 0 && buf[i] === 0x22) {
    const end = buf.indexOf(0x22, i + 1);
    if (end > i && end - i <= 33) op = buf.toString("latin1", i + 1, end);
  }
  i = jsonValueStart(buf, JSON_CONV_KEY);
  if (i >= 0 && buf[i] === 0x22 && buf[i + 1 + UUID_LEN] === 0x22) conversationId = readUuidAt(buf, i + 1);
  return { op, conversationId };
}

function peekMsgpack(buf: Buffer): Peek {
  let op: string | null = null;
  let conversationId: string | null = null;
  let at = buf.indexOf(MP_OP_KEY);
  if (at >= 0) {
    const head = buf[at + MP_OP_KEY.length];
    if (head !== undefined && (head & 0xe0) === 0xa0) {
      const len = head & 0x1f;
      const start = at + MP_OP_KEY.length + 1;
      if (start + len <= buf.length) op = buf.toString("latin1", start, start + len);
    }
  }
  at = buf.indexOf(MP_CONV_KEY);
  if (at >= 0) {
    const i = at + MP_CONV_KEY.length;
    if (buf[i] === 0xd9 && buf[i + 1] === UUID_LEN) conversationId = readUuidAt(buf, i + 2);
  }
  return { op, conversationId };
}

export function peekFrame(bytes: Uint8Array, isBinary: boolean): Peek {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isBinary ? peekMsgpack(buf) : peekJson(buf);
}
