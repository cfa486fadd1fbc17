/**
 * The items nodes exchange over the bus (one bus payload carries a turn's items
 * for one node, bus-batch-format.ts): a forwarded request, its reply, an event
 * for users connected to the receiving node. A small fixed binary layout rather
 * than a general encoding: the frame and event bytes travel untouched (never
 * decoded on the way), and a decoder that knows exactly what to expect can check
 * every byte of what another node, or anyone who can publish on Redis, sent.
 *
 *   request  0x01  serial f64 | enc u8 | op (u8 length, ASCII) | user 36 | route 36 | frame (u32 length, bytes)
 *   internal 0x04  serial f64 | enc u8 | caller u8 (1 internal, 2 service) | op (u8 length, ASCII) | user 36 | route 36 | frame (u32 length, bytes)
 *   reply    0x02  serial f64 | flags u8 | has bytes u8 | reply (u32 length, bytes)
 *   event    0x03  seq f64 | users u16 × 36 | has conversation u8 [conversation 36] | json (u32, bytes) | msgpack (u32, bytes)
 *   presence 0x05  user 36 | online u8 | last_activity f64 | at f64   (a watched user's presence turned)
 *
 * Ids are the protocol's lowercase hyphenated UUIDs, 36 ASCII bytes each.
 *
 * A client's request (0x01) runs as the user its origin node verified; an
 * internal call's (0x04) as its caller kind. A separate item type rather than a
 * field of 0x01 keeps the clients' layout as it was and makes "internal" a
 * choice the origin node writes explicitly. Neither is more trusted than the
 * bus itself: whoever can publish on a node's inbox could already run requests
 * as every user, so the bus's Redis must be reachable by the cluster only.
 */
import { isOp, isUuid } from '@whispr/protocol';
import type { CallerKind } from '@whispr/actors';
import type { ForwardedEvent, ForwardedReply, ForwardedRequest } from '@whispr/gateway';
import type { PresenceChange } from '@whispr/store';

const REQUEST = 0x01;
const REPLY = 0x02;
const EVENT = 0x03;
const INTERNAL_REQUEST = 0x04;
const CALLER_CODES: Record<Exclude<CallerKind, 'client'>, number> = { internal: 1, service: 2 };
const callerOfCode = (code: number): CallerKind | null => (code === 1 ? 'internal' : code === 2 ? 'service' : null);
const PRESENCE = 0x05;
const UUID_BYTES = 36;
/** Most users one event item names (a group's members on one node). */
export const MAX_EVENT_USERS = 65_535;

export type PeerItem =
  | { type: 'request'; request: ForwardedRequest }
  | { type: 'reply'; reply: ForwardedReply }
  | { type: 'event'; event: ForwardedEvent }
  | { type: 'presence'; change: PresenceChange };

class Writer {
  private readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  u8(v: number): this {
    this.buf.writeUInt8(v, this.at);
    this.at += 1;
    return this;
  }
  u16(v: number): this {
    this.buf.writeUInt16BE(v, this.at);
    this.at += 2;
    return this;
  }
  f64(v: number): this {
    this.buf.writeDoubleBE(v, this.at);
    this.at += 8;
    return this;
  }
  ascii(s: string): this {
    this.at += this.buf.write(s, this.at, 'latin1');
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.writeUInt32BE(b.byteLength, this.at);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.byteLength;
    return this;
  }
  done(): Buffer {
    if (this.at !== this.buf.length) throw new Error(`peer item size mismatch: wrote ${this.at} of ${this.buf.length}`);
    return this.buf;
  }
}

export function encodeRequest(r: ForwardedRequest): Buffer {
  if (r.caller !== 'client') {
    return new Writer(1 + 8 + 1 + 1 + 1 + r.op.length + UUID_BYTES * 2 + 4 + r.bytes.byteLength)
      .u8(INTERNAL_REQUEST).f64(r.serial).u8(r.enc).u8(CALLER_CODES[r.caller]).u8(r.op.length).ascii(r.op).ascii(r.user).ascii(r.route).bytes(r.bytes).done();
  }
  return new Writer(1 + 8 + 1 + 1 + r.op.length + UUID_BYTES * 2 + 4 + r.bytes.byteLength)
    .u8(REQUEST).f64(r.serial).u8(r.enc).u8(r.op.length).ascii(r.op).ascii(r.user).ascii(r.route).bytes(r.bytes).done();
}

export function encodeReply(r: ForwardedReply): Buffer {
  const bytes = r.bytes ?? new Uint8Array(0);
  return new Writer(1 + 8 + 1 + 1 + 4 + bytes.byteLength).u8(REPLY).f64(r.serial).u8(r.flags).u8(r.bytes ? 1 : 0).bytes(bytes).done();
}

export function encodeEvent(e: ForwardedEvent): Buffer {
  if (e.users.length > MAX_EVENT_USERS) throw new RangeError(`an event item names at most ${MAX_EVENT_USERS} users`);
  const w = new Writer(1 + 8 + 2 + e.users.length * UUID_BYTES + 1 + (e.conversationId ? UUID_BYTES : 0) + 4 + e.json.byteLength + 4 + e.mp.byteLength)
    .u8(EVENT).f64(e.seq).u16(e.users.length);
  for (const u of e.users) w.ascii(u);
  w.u8(e.conversationId ? 1 : 0);
  if (e.conversationId) w.ascii(e.conversationId);
  return w.bytes(e.json).bytes(e.mp).done();
}

export function encodePresence(c: PresenceChange): Buffer {
  return new Writer(1 + UUID_BYTES + 1 + 8 + 8).u8(PRESENCE).ascii(c.userId).u8(c.online ? 1 : 0).f64(c.lastActivity).f64(c.at).done();
}

const timeOk = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

class Malformed extends Error {}

class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Malformed();
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.at++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.at);
    this.at += 8;
    return v;
  }
  ascii(n: number): string {
    this.need(n);
    const s = this.buf.toString('latin1', this.at, this.at + n);
    this.at += n;
    return s;
  }
  uuid(): string {
    const s = this.ascii(UUID_BYTES);
    if (!isUuid(s)) throw new Malformed();
    return s;
  }
  bytes(): Buffer {
    this.need(4);
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    this.need(n);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  end(): void {
    if (this.at !== this.buf.length) throw new Malformed();
  }
}

const serialOk = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

/**
 * Decodes one item, checking every field (ids are UUIDs, the op is a known op,
 * the sizes add up); null for anything else. The byte fields are views of `item`.
 */
export function decodePeerItem(item: Buffer): PeerItem | null {
  try {
    const r = new Reader(item);
    switch (r.u8()) {
      case REQUEST:
      case INTERNAL_REQUEST: {
        const internal = item[0] === INTERNAL_REQUEST;
        const serial = r.f64();
        const enc = r.u8();
        const caller = internal ? callerOfCode(r.u8()) : 'client';
        const op = r.ascii(r.u8());
        const user = r.uuid();
        const route = r.uuid();
        const bytes = r.bytes();
        r.end();
        if (!serialOk(serial) || (enc !== 0 && enc !== 1) || !isOp(op) || caller === null) return null;
        return { type: 'request', request: { serial, enc, op, user, caller, route, bytes } };
      }
      case REPLY: {
        const serial = r.f64();
        const flags = r.u8();
        const has = r.u8();
        const bytes = r.bytes();
        r.end();
        if (!serialOk(serial) || has > 1 || flags > 7 || (has === 0 && bytes.length > 0)) return null;
        return { type: 'reply', reply: { serial, flags, bytes: has ? bytes : null } };
      }
      case EVENT: {
        const seq = r.f64();
        const count = r.u16();
        const users: string[] = [];
        for (let i = 0; i < count; i++) users.push(r.uuid());
        const hasConversation = r.u8();
        if (hasConversation > 1) return null;
        const conversationId = hasConversation ? r.uuid() : null;
        const json = r.bytes();
        const mp = r.bytes();
        r.end();
        if (!Number.isSafeInteger(seq) || seq < 0) return null;
        return { type: 'event', event: { users, json, mp, conversationId, seq } };
      }
      case PRESENCE: {
        const userId = r.uuid();
        const online = r.u8();
        const lastActivity = r.f64();
        const at = r.f64();
        r.end();
        if (online > 1 || !timeOk(lastActivity) || !timeOk(at)) return null;
        return { type: 'presence', change: { userId, online: online === 1, lastActivity, at } };
      }
      default:
        return null;
    }
  } catch (err) {
    if (err instanceof Malformed) return null;
    throw err;
  }
}
