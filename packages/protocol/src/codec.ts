/**
 * Wire codec: JSON in text frames, MessagePack in binary frames (PROTOCOL.md §2).
 * Byte fields travel as base64 in JSON and as bin in MessagePack; in memory they
 * are always Uint8Array. The wire stays plain MessagePack (no records/structures)
 * so any MessagePack library can talk to the service.
 */
import { Packr, Unpackr } from 'msgpackr';
import { badRequest } from './errors.ts';


export type Encoding = 'json' | 'msgpack';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Field names that carry bytes (base64 in JSON). Only top-level request fields are converted on decode. */
const BYTE_FIELDS = ['content'] as const;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const encodingOfFrame = (isBinary: boolean): Encoding => (isBinary ? 'msgpack' : 'json');

/**
 * Decodes one frame. Throws a bad_request WhisprError when the bytes are not valid
 * JSON / MessagePack; the caller decides whether the value is an object.
 */
export function decodeFrame(bytes: Uint8Array, encoding: Encoding): unknown {
  let value: unknown;
  try {
    value = encoding === 'json' ? JSON.parse(textDecoder.decode(bytes)) : unpackr.unpack(bytes);
  } catch {
    // Mapped to its coded error: the parser's own message says nothing a client can use.
    throw badRequest('', `frame is not valid ${encoding === 'json' ? 'JSON' : 'MessagePack'}`);
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * JSON carries byte fields as base64: turn them into bytes, or fail naming the
 * field. Done after decoding (not in it) so the error can answer the request's id.
 */
export function decodeBase64Fields(frame: Record<string, unknown>): void {
  for (const field of BYTE_FIELDS) {
    const raw = frame[field];
    if (raw === undefined) continue;
    if (typeof raw !== 'string' || !BASE64_RE.test(raw)) {
      throw badRequest(field, 'must be a base64 string (standard alphabet, padded)');
    }
    frame[field] = new Uint8Array(Buffer.from(raw, 'base64'));
  }
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // Buffer.toJSON runs before the replacer, so look at the holder's original value.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/**
 * Times are integers (ms since the epoch) and pass 2^32; msgpackr writes any
 * number beyond 32 bits as float64, which strict decoders elsewhere reject as a
 * time. Safe integers past 32 bits go out as BigInt, which it writes as int64.
 * Returns a copy: the same object is also encoded as JSON.
 */
function withInt64(value: unknown): unknown {
  if (typeof value === 'number') {
    return (value > 0xffffffff || value < -0x80000000) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(withInt64);
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in source) out[k] = withInt64(source[k]);
  return out;
}

/** Encodes one outgoing frame (reply or event) to the bytes of a text (JSON) or binary (MessagePack) frame. */
export function encodeFrame(value: unknown, encoding: Encoding): Uint8Array {
  if (encoding === 'msgpack') return packr.pack(withInt64(value));
  return Buffer.from(JSON.stringify(value, jsonReplacer), 'utf8');
}

/**
 * Decodes bytes produced by encodeFrame, turning base64 byte fields back into
 * Uint8Array (client side). Only a message's `content` is bytes: a `content`
 * key inside metadata or settings is the client's own string and stays one.
 */
export function decodeServerFrame(bytes: Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'msgpack') return unpackr.unpack(bytes);
  return JSON.parse(textDecoder.decode(bytes), function (this: Record<string, unknown>, key: string, value: unknown) {
    return key === 'content' && typeof value === 'string' && 'seq' in this && 'sender_id' in this
      ? new Uint8Array(Buffer.from(value, 'base64'))
      : value;
  });
}
