/**
 * Arbitraries of single values as frame nodes: the ordinary ones valid requests
 * are built from, and the nasty ones mutations put in their place (strings with
 * NUL or lone surrogates, numbers past every range, every wrong type).
 */
import fc from 'fast-check';
import { arr, bin, bool, map, nil, num, str, type FrameNode } from '../frame/frame-node.ts';

export const uuidString = fc.uuid();
export const uuidNode: fc.Arbitrary<FrameNode> = uuidString.map(str);

/** Converts a JSON value (fc.jsonValue) to a node. */
export function fromJson(value: unknown): FrameNode {
  if (value === null || value === undefined) return nil;
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'number') return num(value);
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return arr(value.map(fromJson));
  return map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromJson(v)] as const));
}

/** Strings a careless store or encoder trips on. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    'x\udc00\ud800y',
    '\ud83d\ude00',
    '\u202eevil',
    '\ufeff',
    '\uffff',
    '\\u0000',
    '"quoted"',
    '\n\r\t\b\f',
    '__proto__',
    'constructor',
    '%s%n%x',
    "'; DROP TABLE messages; --",
    'L'.repeat(10_000),
    // 60,000 two-byte characters: 120 KB on the wire, under max_frame_bytes.
    '\u00e9'.repeat(60_000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Numbers at and past the edges of every numeric field. */
export const nastyNumber: fc.Arbitrary<FrameNode> = fc.oneof(
  fc.constantFrom<FrameNode>(
    num(-1),
    num(0),
    { t: 'num', v: -0, json: '-0' },
    num(0.5),
    num(1.5),
    num(-2147483649),
    num(2147483648),
    num(4294967296),
    num(2 ** 53),
    num(2 ** 53 + 2),
    num(-(2 ** 53) - 2),
    num(1e300),
    num(-1e300),
    num(Number.MIN_VALUE),
    num(8640000000000001),
    { t: 'num', v: Infinity },
    { t: 'num', v: -Infinity },
    { t: 'num', v: NaN },
    { t: 'num', v: 7, width: 'f64', json: '7.0' },
    { t: 'num', v: 7, width: 'f32', json: '7e0' },
    { t: 'num', v: 7, width: 'i64' },
    { t: 'num', v: 100, json: '1E2' },
    { t: 'bigint', v: 2n ** 64n - 1n },
    { t: 'bigint', v: -(2n ** 63n) },
    { t: 'bigint', v: 10n ** 30n },
  ),
  fc.double().map((v) => num(v)),
  fc.integer().map((v) => num(v)),
);

/** A value of any type, for a field that wants another. */
export const anyTypeValue: fc.Arbitrary<FrameNode> = fc.oneof(
  fc.constant(nil),
  fc.boolean().map(bool),
  nastyNumber,
  nastyString.map(str),
  uuidNode,
  fc.uint8Array({ maxLength: 40 }).map((b) => bin(b)),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }).map(fromJson),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }).map(fromJson),
  fc.constant<FrameNode>(arr([])),
  fc.constant<FrameNode>(map([])),
);

/** Ordinary message metadata: a small object, comfortably under max_metadata_bytes. */
export const plainMetadata: fc.Arbitrary<FrameNode> = fc
  .array(
    fc.tuple(
      fc.string({ maxLength: 12 }),
      fc.oneof(
        fc.string({ maxLength: 24 }).map(str),
        fc.integer().map((v) => num(v)),
        fc.boolean().map(bool),
        fc.constant(nil),
        fc.array(fc.nat(), { maxLength: 4 }).map((items) => arr(items.map((v) => num(v)))),
      ),
    ),
    { maxLength: 4 },
  )
  // Keys are unique: repeated keys inside metadata are another mutation's business.
  .map((pairs) => map([...new Map(pairs)]));

/** Metadata whose keys or values are nasty strings: valid JSON objects a store may still refuse. */
export const nastyMetadata: fc.Arbitrary<FrameNode> = fc
  .array(fc.tuple(nastyString, fc.oneof(nastyString.map(str), nastyNumber, fc.constant(nil))), { minLength: 1, maxLength: 3 })
  .map((pairs) => map(pairs));

export const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
export const message = fc.uint8Array({ minLength: 1, maxLength: 300 });
/** Valid media types (type/subtype, as msg.send requires), the shortest included. */
export const mediaType = fc.constantFrom('image/png', 'image/jpeg', 'video/mp4', 'application/pdf', 'a/b');

/** Byte sequences that are not UTF-8: a stray continuation, an overlong NUL, a surrogate, past U+10FFFF, cut short. */
export const notUtf8: fc.Arbitrary<FrameNode> = fc
  .constantFrom([0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x61, 0xfe, 0x62])
  .map((bytes) => ({ t: 'utf8', bytes: Uint8Array.from(bytes) }));
