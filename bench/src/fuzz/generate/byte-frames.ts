/**
 * Frames wrong below the level of fields: random bytes, random text, values
 * that are not objects, JSON syntax errors, MessagePack with bytes after the
 * value, truncated frames. A frame that cannot be decoded or is not an object
 * gets `bad_request` with `re: null` (PROTOCOL.md §3).
 */
import fc from 'fast-check';
import { arr, bin, bool, entriesOf, map, nil, num, str, type FrameNode } from '../frame/frame-node.ts';
import { badRequest } from '../oracle/expectation.ts';
import { DECOY_ID_BASE } from '../oracle/reply-id.ts';
import type { FrameRecipe, RequestRecipe } from './recipe.ts';
import { notUtf8 } from './values.ts';

const undecodable = badRequest('a frame that cannot be decoded or is not an object (PROTOCOL.md §3)');

/** A placeholder body for recipes whose bytes replace the encoding. */
const EMPTY: FrameNode = map([]);

export const randomBytes = (binary: boolean): fc.Arbitrary<FrameRecipe> =>
  fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((bytes) => ({
    binary,
    body: EMPTY,
    edit: { kind: 'replace', bytes },
    labels: ['random-bytes', `${bytes.length}B`],
    expect: undecodable,
    reply: 'null',
    decodes: 'unknown',
  }));

export const randomText: fc.Arbitrary<FrameRecipe> = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).map((text) => ({
  binary: false,
  body: EMPTY,
  edit: { kind: 'replace', bytes: Buffer.from(text, 'utf8') },
  labels: ['random-text'],
  expect: undecodable,
  reply: 'null',
  decodes: 'unknown',
}));

/** Values that decode but are not objects. */
const notObjects: readonly FrameNode[] = [
  nil,
  bool(true),
  num(1),
  num(-1.5),
  str('{"id":1,"op":"ping"}'),
  arr([]),
  arr([map([['id', num(DECOY_ID_BASE)], ['op', str('ping')]])]),
  bin(Uint8Array.from([0x7b, 0x7d])),
  { t: 'nest', depth: 50, container: 'arr', leaf: num(1) },
];

export const notAnObject = (binary: boolean): fc.Arbitrary<FrameRecipe> =>
  fc.oneof(fc.constantFrom(...notObjects), fc.constantFrom(2000, 20_000).map((depth): FrameNode => ({ t: 'nest', depth, container: 'arr', leaf: nil }))).map((body) => ({
    binary,
    body,
    labels: ['not-an-object', body.t === 'nest' ? `nest:${body.depth}` : body.t],
    expect: undecodable,
    reply: 'null',
    // A deep array might not decode at all: either way it is no object.
    decodes: 'not-object',
  }));

/** JSON that JSON.parse refuses. Ids in them are decoys (2^40): a reply that echoes one read an id from an undecodable frame. */
const JSON_SYNTAX = [
  '{"id":1099511627776,"op":"ping",}',
  "{'id':1099511627776,'op':'ping'}",
  '{"id":1099511627776,"op":"ping"} x',
  '{"id":1099511627776,"op":"ping"}{"id":1099511627777,"op":"ping"}',
  '{"id":1099511627776,/* c */"op":"ping"}',
  '{"id":01099511627776,"op":"ping"}',
  '{"id":1099511627776,"op":"pi\tng"}',
  '{"id":1099511627776,"op":"ping"',
  '{"id":+1099511627776,"op":"ping"}',
  '{"id":0x10000000000,"op":"ping"}',
  '{"id":1099511627776,"op":"\\x70ing"}',
  '{"id":1099511627776,"op":"\\ud800"',
  '{id:1099511627776,op:"ping"}',
  '\u0000',
  '',
];

export const jsonSyntax: fc.Arbitrary<FrameRecipe> = fc.constantFrom(...JSON_SYNTAX).map((text) => ({
  binary: false,
  body: EMPTY,
  edit: { kind: 'replace', bytes: Buffer.from(text, 'utf8') },
  labels: ['json-syntax', JSON.stringify(text).slice(0, 40)],
  expect: undecodable,
  reply: 'null',
  decodes: 'not-object',
}));

/** A valid request followed by another value: not one value, so not decodable (JSON.parse and msgpackr both refuse it). */
export const trailingBytes = (base: RequestRecipe, binary: boolean): fc.Arbitrary<FrameRecipe> =>
  fc.constantFrom<FrameNode>(num(0), nil, map([['id', num(DECOY_ID_BASE)], ['op', str('ping')]])).map((value) => ({
    binary,
    body: base.body,
    edit: { kind: 'append', value },
    labels: [...base.labels, `trailing-value:${value.t}`],
    expect: undecodable,
    reply: 'either',
    decodes: 'unknown',
  }));

export const truncated = (base: RequestRecipe, binary: boolean): fc.Arbitrary<FrameRecipe> =>
  fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }).map((keep) => ({
    binary,
    body: base.body,
    edit: { kind: 'truncate', keep },
    labels: [...base.labels, `truncated:${keep.toFixed(2)}`],
    expect: undecodable,
    reply: 'either',
    decodes: 'unknown',
  }));

/** Twenty undecodable frames in a row on a quiet connection: each answered, then a 1008 close. */
export const badStreak: fc.Arbitrary<FrameRecipe> = fc.boolean().map((binary) => ({
  binary,
  body: EMPTY,
  labels: ['bad-streak'],
  expect: undecodable,
  reply: 'null',
  decodes: 'not-object',
  streak: true,
}));

/** A text frame whose bytes are not UTF-8 inside an otherwise valid request: closed with 1007 (RFC 6455 §8.1). */
export const notUtf8Text = (base: RequestRecipe): fc.Arbitrary<FrameRecipe> =>
  notUtf8.map((bad) => ({
    binary: false,
    body: { t: 'map', entries: [...entriesOf(base.body), [str('x'), bad]] },
    labels: [...base.labels, 'text-not-utf8'],
    expect: undecodable,
    reply: 'null',
    decodes: 'unknown',
  }));

/** Undecodable frames interleaved with valid ones, pipelined: the 1008 rule counts consecutive frames only. */
export const interleavedStreak: fc.Arbitrary<FrameRecipe> = fc.boolean().map((binary) => ({
  binary,
  body: EMPTY,
  labels: ['interleaved'],
  expect: undecodable,
  reply: 'null',
  decodes: 'not-object',
  interleaved: true,
}));
