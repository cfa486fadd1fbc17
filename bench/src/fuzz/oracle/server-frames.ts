/**
 * Reading what the node sends: decoding (plain JSON and plain MessagePack, with
 * a decoder of the fuzzer's own, not the node's) and telling replies from events
 * from frames that are neither. A reply is `{re, ok: true, …}` or
 * `{re, ok: false, error: {code, message}}` (PROTOCOL.md §3).
 */
import { Unpackr } from 'msgpackr';
import { isErrorCode, type Outcome } from './contract.ts';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export type ServerFrame =
  | { kind: 'event'; ev: string; body: Record<string, unknown> }
  | { kind: 'reply'; re: unknown; outcome: Outcome; body: Record<string, unknown> }
  /** A reply whose error code is none of PROTOCOL.md §3's. */
  | { kind: 'undocumented'; re: unknown; code: string; body: Record<string, unknown> }
  | { kind: 'malformed'; why: string };

export function decodeServerFrame(data: Buffer, binary: boolean): unknown {
  return binary ? unpackr.unpack(data) : JSON.parse(data.toString('utf8'));
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export function classify(value: unknown): ServerFrame {
  if (!isRecord(value)) return { kind: 'malformed', why: 'not an object' };
  if (typeof value['ev'] === 'string') return { kind: 'event', ev: value['ev'], body: value };
  if (!('re' in value)) return { kind: 'malformed', why: 'neither an event (ev) nor a reply (re)' };
  const re = value['re'];
  if (value['ok'] === true) return { kind: 'reply', re, outcome: 'ok', body: value };
  if (value['ok'] !== false) return { kind: 'malformed', why: `ok is ${JSON.stringify(value['ok'])}` };
  const error = value['error'];
  if (!isRecord(error) || typeof error['code'] !== 'string' || typeof error['message'] !== 'string') {
    return { kind: 'malformed', why: 'an error reply without error.code and error.message strings' };
  }
  if (!isErrorCode(error['code'])) return { kind: 'undocumented', re, code: error['code'], body: value };
  return { kind: 'reply', re, outcome: error['code'], body: value };
}
