/**
 * From SDK values to wire bytes and back. The encoding of an incoming frame is
 * read from its frame type, not from the connection's `enc`, because a reply uses
 * the encoding of its request (PROTOCOL.md §2) and raw test frames may mix them.
 */
import {
  decodeServerFrame,
  encodeFrame,
  encodingOfFrame,
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

export function decodeIncoming(data: RawData, isBinary: boolean): Incoming {
  let frame: unknown;
  try {
    frame = decodeServerFrame(rawDataBytes(data), encodingOfFrame(isBinary));
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
