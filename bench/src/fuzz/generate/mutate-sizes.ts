/**
 * Mutations of size and depth: nesting thousands of levels deep, arrays past
 * every bound, MessagePack headers that claim more than the frame holds,
 * content and metadata over the limits in `hello`, and whole frames over
 * max_frame_bytes (which must close the connection with 1009, PROTOCOL.md §3).
 */
import fc from 'fast-check';
import { entriesOf, keyName, map, num, ref, str, valueOf, withField, type FrameNode } from '../frame/frame-node.ts';
import { ANY, invalidVersionOf, oneOf } from '../oracle/expectation.ts';
import type { RequestRecipe } from './recipe.ts';
import { uuidNode } from './values.ts';

const DEPTHS = [10, 100, 1000, 5000, 20_000];

const hasMetadata = (base: RequestRecipe): boolean => base.op === 'msg.send' || base.op === 'conv.group';

/** Deep nesting in metadata (where the op has it) or in an unknown field. */
export const deepNesting = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.constantFrom(...DEPTHS), fc.constantFrom<'arr' | 'map'>('arr', 'map'), fc.boolean()).map(([depth, container, inMetadata]) => {
    const nest: FrameNode = { t: 'nest', depth, container, leaf: str('leaf') };
    const name = inMetadata && hasMetadata(base) ? 'metadata' : 'x';
    // Metadata must be an object: an array nest goes one level down.
    const value = name === 'metadata' && container === 'arr' ? map([['deep', nest]]) : nest;
    return { ...base, body: withField(base.body, name, value), labels: [...base.labels, `deep:${name}:${container}:${depth}`], expect: ANY };
  });

/** Array fields past their bounds (docs/protocol.md §3): user_ids 1,000, cursors 1,000, attachments 32. */
export const hugeArray = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.integer({ min: 1, max: 3 }), uuidNode, fc.nat()).map(([scale, uuid, pick]) => {
    const field = (name: string, count: number, item: FrameNode): RequestRecipe => ({
      ...base,
      body: withField(base.body, name, { t: 'repeat', count, item }),
      labels: [...base.labels, `huge-array:${name}:${count}`],
      expect: invalidVersionOf(base.expect, `${name} has more entries than its bound`),
    });
    if (base.op === 'conv.group') return field('user_ids', 1000 * scale + 1, uuid);
    if (base.op === 'sync') return field('cursors', 1000 * scale + 1, map([['conversation_id', ref({ kind: 'own-conversation', pick })], ['after_seq', num(0)]]));
    if (base.op === 'msg.send') return field('attachments', 32 * scale * 4 + 1, map([['media_id', uuid], ['media_type', str('image/png')]]));
    // Elsewhere an unknown field: ignored, so the answer is the request's own.
    return { ...base, body: withField(base.body, 'x', { t: 'repeat', count: 20_000 * scale, item: num(0) }), labels: [...base.labels, `huge-array:x:${20_000 * scale}`] };
  });

/** MessagePack headers claiming far more than the frame holds (JSON gets an unterminated array). */
const lyingHeaders: readonly FrameNode[] = [
  { t: 'raw', msgpack: Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), json: '[1' },
  { t: 'raw', msgpack: Uint8Array.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 0x01]), json: '{"a":1' },
  { t: 'raw', msgpack: Uint8Array.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), json: '"a' },
  { t: 'raw', msgpack: Uint8Array.from([0xc6, 0x7f, 0xff, 0xff, 0xff, 0x61]), json: '"YQ' },
  { t: 'raw', msgpack: Uint8Array.from([0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01]), json: 'nul' },
  { t: 'raw', msgpack: Uint8Array.from([0xc1]), json: 'undefined' },
];

export const lyingHeader = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.constantFrom(...lyingHeaders), fc.constantFrom(...entriesOf(base.body).map(([k]) => keyName(k) ?? 'id'))).map(([node, name]) => ({
    ...base,
    body: withField(base.body, name, node),
    labels: [...base.labels, `lying-header:${name}`],
    expect: oneOf('a frame that cannot be decoded', 'bad_request'),
    reply: 'either' as const,
  }));

/**
 * Extension values msgpackr gives a meaning to (BigInt, Date, Error, Set,
 * RegExp, typed arrays, undefined, structured-clone ids and pointers that make
 * a cycle, record definitions) and unknown ones, in metadata or any field.
 */
const extensionValues: readonly FrameNode[] = [
  { t: 'ext', type: 0x42, data: Uint8Array.from([0x05]) },
  { t: 'ext', type: 0x42, data: Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) },
  { t: 'ext', type: 0xff, data: Uint8Array.from([0x60, 0x00, 0x00, 0x00]) },
  { t: 'ext', type: 0xff, data: Uint8Array.from([0x01, 0x02, 0x03]) },
  { t: 'ext', type: 0x00, data: Uint8Array.from([0x00]) },
  { t: 'ext', type: 0x74, data: Uint8Array.from([0x01, 0x00, 0x00, 0x00, 0x00]) },
  { t: 'ext', type: 0x74, data: Uint8Array.from([0x63, 0x00]) },
  { t: 'ext', type: 0x10, data: Uint8Array.from([0x00]) },
  { t: 'ext', type: 0x70, data: Uint8Array.from([0x00, 0x00, 0x00, 0x07]) },
  // An Error whose payload follows: [name, message].
  { t: 'raw', msgpack: Uint8Array.from([0xd4, 0x65, 0x00, 0x92, 0xa9, ...Buffer.from('TypeError'), 0xa1, 0x78]), json: 'null' },
  // A Set of [1, 2] and a RegExp of ['(a+)+$', 'g'].
  { t: 'raw', msgpack: Uint8Array.from([0xd4, 0x73, 0x00, 0x92, 0x01, 0x02]), json: 'null' },
  { t: 'raw', msgpack: Uint8Array.from([0xd4, 0x78, 0x00, 0x92, 0xa6, ...Buffer.from('(a+)+$'), 0xa1, 0x67]), json: 'null' },
  // A map that contains itself: id 1 on {a: pointer 1}.
  { t: 'raw', msgpack: Uint8Array.from([0xd6, 0x69, 0, 0, 0, 1, 0x81, 0xa1, 0x61, 0xd6, 0x70, 0, 0, 0, 1]), json: '{}' },
  // A record definition (structure 0x40 with key "id") followed by its value, a decoy id (2^40).
  { t: 'raw', msgpack: Uint8Array.from([0xd4, 0x72, 0x40, 0x91, 0xa2, 0x69, 0x64, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0]), json: '{}' },
];

export const extensionValue = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.constantFrom(...extensionValues), fc.constantFrom('metadata', ...entriesOf(base.body).map(([k]) => keyName(k) ?? 'x'))).map(([value, name]) => {
    const inMetadata = name === 'metadata';
    const body = inMetadata ? withField(base.body, 'metadata', map([['v', value], ...entriesOf(valueOf(base.body, 'metadata') ?? map([])).map(([k, v]) => [keyName(k) ?? 'k', v] as const)])) : withField(base.body, name, value);
    return { ...base, body, labels: [...base.labels, `extension:${name}:${value.t === 'ext' ? value.type : 'raw'}`], expect: ANY, reply: 'either' as const };
  });

/** Content or metadata over the limits in `hello`: `too_large` (PROTOCOL.md §3); or exactly at the content limit. */
export const overLimit = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.constantFrom('content+1', 'content=', 'metadata*2').map((which) => {
    if (which === 'metadata*2') {
      const body = withField(base.body, 'metadata', map([['p', ref({ kind: 'pad', limit: 'metadata', factor: 2, extra: 0, as: 'str' })]]));
      return { ...base, body, labels: [...base.labels, 'over-limit:metadata'], expect: lookupsOr(base, 'too_large') };
    }
    const at = which === 'content=';
    const body = withField(base.body, 'content', ref({ kind: 'pad', limit: 'content', factor: 1, extra: at ? 0 : 1, as: 'bin' }));
    return { ...base, body, labels: [...base.labels, at ? 'at-limit:content' : 'over-limit:content'], expect: at ? base.expect : lookupsOr(base, 'too_large') };
  });

/** `too_large`, or what the conversation lookup gives a non-member or an unknown id first. */
function lookupsOr(base: RequestRecipe, code: 'too_large'): RequestRecipe['expect'] {
  const lookups = base.expect.kind === 'one-of' ? base.expect.outcomes.filter((o) => o === 'forbidden' || o === 'not_found') : [];
  return oneOf('content or metadata over the limits in hello (PROTOCOL.md §3)', code, ...lookups);
}

/** A frame over max_frame_bytes: padding in an unknown field, just over, twice over, or 17 times over. */
export const overFrameLimit = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.constantFrom(1, 1, 1, 1, 1, 1, 1, 1, 2, 17), fc.integer({ min: 1, max: 64 }), fc.boolean()).map(([factor, extra, asBytes]) => ({
    ...base,
    body: withField(base.body, 'x', ref({ kind: 'pad', limit: 'frame', factor, extra, as: asBytes ? 'bin' : 'str' })),
    labels: [...base.labels, `over-frame-limit:x${factor}`],
    expect: ANY,
  }));
