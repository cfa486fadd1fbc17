/**
 * The bus envelope: what one payload looks like on an inbox, so a receiver can
 * tell this bus's messages from anything else published there and knows who sent
 * them. Version 1:
 *
 *   0      2  magic "WB" (0x57 0x42)
 *   2      1  version (1)
 *   3      1  sender id length L, 1..255
 *   4      L  sender node id, UTF-8
 *   4+L    4  sender incarnation, u32 BE: random per bus instance, so a restarted
 *             sender's sequence is not mistaken for a gap
 *   8+L    4  sequence number, u32 BE, per (incarnation, destination), from 1,
 *             wrapping: the receiver counts holes in it as lost payloads
 *   12+L      payload (the rest), at most maxPayloadBytes
 *
 * Decoding trusts nothing: every length is checked against the bytes present,
 * and a failure names its reason (for the throttled log) instead of throwing.
 */

const MAGIC_0 = 0x57;
const MAGIC_1 = 0x42;
export const ENVELOPE_VERSION = 1;
const FIXED_HEADER_BYTES = 4;
const TRAILER_FIELDS_BYTES = 8;
const MAX_NODE_ID_BYTES = 255;

/** Node ids travel in every envelope: 1–255 UTF-8 bytes, no whitespace or control characters. */
const NODE_ID_CHARS = /^[^\s\p{Cc}]+$/u;

export function isValidNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_CHARS.test(value) && Buffer.byteLength(value, 'utf8') <= MAX_NODE_ID_BYTES;
}

/** The part of an envelope a sender writes once per destination; only the sequence number changes. */
export class EnvelopeHeader {
  private readonly prefix: Buffer;

  constructor(senderId: string, incarnation: number) {
    if (!isValidNodeId(senderId)) throw new TypeError(`EnvelopeHeader senderId must be a valid node id, got ${JSON.stringify(senderId)}`);
    const id = Buffer.from(senderId, 'utf8');
    this.prefix = Buffer.alloc(FIXED_HEADER_BYTES + id.length + TRAILER_FIELDS_BYTES);
    this.prefix[0] = MAGIC_0;
    this.prefix[1] = MAGIC_1;
    this.prefix[2] = ENVELOPE_VERSION;
    this.prefix[3] = id.length;
    id.copy(this.prefix, FIXED_HEADER_BYTES);
    this.prefix.writeUInt32BE(incarnation >>> 0, FIXED_HEADER_BYTES + id.length);
  }

  get bytes(): number {
    return this.prefix.length;
  }

  /** A fresh Buffer holding header, `seq` and a copy of `payload`. */
  wrap(seq: number, payload: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(this.prefix.length + payload.length);
    this.prefix.copy(out, 0);
    out.writeUInt32BE(seq >>> 0, this.prefix.length - 4);
    out.set(payload, this.prefix.length);
    return out;
  }
}

export interface Envelope {
  sender: string;
  incarnation: number;
  seq: number;
  /** A view of the received bytes, not a copy. */
  payload: Buffer;
}

export type EnvelopeError = 'truncated' | 'bad_magic' | 'bad_version' | 'bad_sender' | 'oversized';

/** The longest envelope that can carry `maxPayloadBytes`: a cheap first check before reading anything. */
export const maxEnvelopeBytes = (maxPayloadBytes: number): number => FIXED_HEADER_BYTES + MAX_NODE_ID_BYTES + TRAILER_FIELDS_BYTES + maxPayloadBytes;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Sender ids seen recently, keyed by their raw bytes (latin1, a 1:1 byte→char map),
 * so the UTF-8 and character checks run once per peer, not once per message.
 * Bounded: an inbox flooded with made-up ids only costs the checks again.
 */
const SENDER_CACHE_LIMIT = 1024;

export class EnvelopeDecoder {
  private readonly senders = new Map<string, string>();

  constructor(private readonly maxPayloadBytes: number) {}

  decode(bytes: Buffer): Envelope | EnvelopeError {
    if (bytes.length > maxEnvelopeBytes(this.maxPayloadBytes)) return 'oversized';
    if (bytes.length < FIXED_HEADER_BYTES) return 'truncated';
    if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return 'bad_magic';
    if (bytes[2] !== ENVELOPE_VERSION) return 'bad_version';
    const idLength = bytes[3]!;
    if (idLength === 0) return 'bad_sender';
    const trailer = FIXED_HEADER_BYTES + idLength;
    const payloadStart = trailer + TRAILER_FIELDS_BYTES;
    if (bytes.length < payloadStart) return 'truncated';
    if (bytes.length - payloadStart > this.maxPayloadBytes) return 'oversized';
    const sender = this.sender(bytes, trailer);
    if (sender === null) return 'bad_sender';
    return {
      sender,
      incarnation: bytes.readUInt32BE(trailer),
      seq: bytes.readUInt32BE(trailer + 4),
      payload: bytes.subarray(payloadStart),
    };
  }

  private sender(bytes: Buffer, end: number): string | null {
    const key = bytes.toString('latin1', FIXED_HEADER_BYTES, end);
    const known = this.senders.get(key);
    if (known !== undefined) return known;
    let id: string;
    try {
      id = strictUtf8.decode(bytes.subarray(FIXED_HEADER_BYTES, end));
    } catch {
      return null;
    }
    if (!isValidNodeId(id)) return null;
    if (this.senders.size >= SENDER_CACHE_LIMIT) this.senders.clear();
    this.senders.set(key, id);
    return id;
  }
}
