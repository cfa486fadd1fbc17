/**
 * From SDK values to wire bytes and back. The encoding of an incoming frame is
 * read from its frame type, not from the connection's `enc`, because a reply uses
 * the encoding of its request (PROTOCOL.md §2) and raw test frames may mix them.
 */
import {
  decodeServerFrame,
  encodeFrame,
  ErrorCode,
  isPlainObject,
  type Encoding,
  type Reply,
  type RequestId,
} from '@whispr/protocol';
import type { AnyServerEvent } from './events.ts';

/** What ws hands a 'message' listener, depending on its binaryType. */
export type RawData = Buffer | ArrayBuffer | Buffer[];

export type Incoming =
  | { kind: 'reply'; reply: Reply }
  | { kind: 'event'; event: AnyServerEvent }
  | { kind: 'invalid'; error: Error };

/**
 * The request object as sent. Fields left undefined are dropped: JSON would drop
 * them anyway, but MessagePack would send an explicit undefined that a strict
 * validator may reject.
 */
export function buildRequest(id: RequestId, op: string, fields: object): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) frame[key] = value;
  // Set last so a stray `id`/`op` in fields cannot override the SDK's own.
  frame.id = id;
  frame.op = op;
  return frame;
}

export function encodeRequest(frame: Record<string, unknown>, encoding: Encoding): Uint8Array {
  return encodeFrame(frame, encoding);
}

export function rawDataBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** Free-form JSON objects of the protocol: whatever a client put there comes back untouched. */
const OPAQUE_KEYS = new Set(['metadata', 'settings']);
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON server frame → value with every `content` turned into bytes, except inside
 * metadata and settings. (The protocol package's decodeServerFrame converts a
 * `content` key at any depth, which corrupts a client's `metadata.content` string.)
 */
export function decodeJsonServerFrame(bytes: Uint8Array): unknown {
  return restoreBytes(JSON.parse(textDecoder.decode(bytes)));
}

function restoreBytes(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restoreBytes(value[i]);
    return value;
  }
  if (!isPlainObject(value)) return value;
  for (const [key, field] of Object.entries(value)) {
    if (OPAQUE_KEYS.has(key)) continue;
    value[key] = key === 'content' && typeof field === 'string' ? new Uint8Array(Buffer.from(field, 'base64')) : restoreBytes(field);
  }
  return value;
}

export function decodeIncoming(data: RawData, isBinary: boolean): Incoming {
  let frame: unknown;
  try {
    const bytes = rawDataBytes(data);
    frame = isBinary ? decodeServerFrame(bytes, 'msgpack') : decodeJsonServerFrame(bytes);
  } catch (err) {
    return { kind: 'invalid', error: new Error('undecodable frame from the server', { cause: err }) };
  }
  if (!isPlainObject(frame)) return { kind: 'invalid', error: new Error('server frame is not an object') };
  if (typeof frame.ev === 'string') return { kind: 'event', event: frame as AnyServerEvent };
  if ('re' in frame && typeof frame.ok === 'boolean') return { kind: 'reply', reply: normaliseReply(frame) };
  return { kind: 'invalid', error: new Error('server frame is neither a reply nor an event') };
}

function normaliseReply(frame: Record<string, unknown>): Reply {
  const re = typeof frame.re === 'string' || typeof frame.re === 'number' ? frame.re : null;
  if (frame.ok === true) return { ...frame, re, ok: true };
  // An error reply without a usable error object still has to reject its request with something.
  const error = isPlainObject(frame.error) ? frame.error : {};
  return {
    re,
    ok: false,
    error: {
      ...error,
      code: typeof error.code === 'string' ? (error.code as ErrorCode) : ErrorCode.Internal,
      message: typeof error.message === 'string' ? error.message : 'error reply without a message',
    },
  };
}
