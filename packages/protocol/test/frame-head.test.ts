import t, { type Test } from 'tap';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { encodeFrame } from '../src/codec.ts';
import { MAX_NESTING_DEPTH, scanFrame, type FrameHead, type ScanResult } from '../src/frame-head.ts';
import { findRequestId } from '../src/frame-id.ts';

const CONV = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';
const OTHER = '0190f5b2-7c3e-7a10-8b2c-000000000000';
const json = (text: string): ScanResult => scanFrame(Buffer.from(text, 'utf8'), false);
const mp = (bytes: Uint8Array): ScanResult => scanFrame(bytes, true);
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

function headOf(r: ScanResult): FrameHead {
  if (!r.ok) throw new Error(`expected a head, got ${r.failure.kind}: ${r.failure.error.message}`);
  return r.head;
}

function refusal(t: Test, r: ScanResult, field: string, message: RegExp, id: unknown = undefined): void {
  if (r.ok) {
    t.fail(`expected a refusal of ${field}`);
    return;
  }
  t.equal(r.failure.kind, 'refused', `refused, not undecodable (${r.failure.error.message})`);
  t.equal(r.failure.error.code, 'bad_request');
  t.equal(r.failure.error.details.field, field, 'names the field');
  t.match(r.failure.error.message, message);
  if (id !== undefined && r.failure.kind === 'refused') t.equal(r.failure.id, id, 'answers with the id read before');
}

/** A MessagePack map written by hand, so keys may repeat (encoders dedupe them). */
function mpMap(entries: [Uint8Array, Uint8Array][]): Buffer {
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flat()]);
}
const k = (s: string): Uint8Array => packr.pack(s);
const v = (x: unknown): Uint8Array => packr.pack(x);

t.test('reads the routing fields of a request in both encodings', async (t) => {
  const request = { id: 7, op: 'msg.send', conversation_id: CONV, client_random: 1, type: 'text', content: new Uint8Array(3), metadata: { op: 'conv.group', conversation_id: OTHER, id: 9 } };
  for (const [name, r] of [['json', json(Buffer.from(encodeFrame(request, 'json')).toString())], ['msgpack', mp(encodeFrame(request, 'msgpack'))]] as const) {
    const h = headOf(r);
    t.equal(h.id, 7, `${name}: id`);
    t.equal(h.op, 'msg.send', `${name}: op (the nested one never counts)`);
    t.equal(h.conversationId, CONV, `${name}: conversation_id (the nested one never counts)`);
  }
});

t.test('keys are read as the decoder reads them: escapes, whitespace, BOM', async (t) => {
  const h = headOf(json(`\ufeff { "\\u006fp" : "conv.get" ,\n "conversation_\\u0069d" :\t"${CONV}", "id": "a\\"b" } `));
  t.equal(h.op, 'conv.get');
  t.equal(h.conversationId, CONV);
  t.equal(h.id, 'a"b');
  t.equal(headOf(json('{"user_id":"x","op":"conv.direct"}')).userId, 'x');
});

t.test('a repeated top-level key is refused, however it is spelled', async (t) => {
  refusal(t, json(`{"id":1,"op":"msg.send","conversation_id":"${CONV}","op":"conv.group","user_ids":[]}`), 'op', /repeats/, 1);
  refusal(t, json(`{"id":1,"op":"msg.history","\\u006fp":"conv.direct"}`), 'op', /repeats/, 1);
  refusal(t, json(`{"id":1,"id":2,"op":"ping"}`), 'id', /repeats/, null);
  refusal(t, json(`{"op":"ping","metadata":{"k":"\\u0000"},"x":[[[]]],"id":"late"}`), 'metadata', /NUL/, 'late');
  refusal(t, mp(mpMap([[k('op'), v('ping')], [k('m'), Buffer.from([0xd4, 0x01, 0x05])], [k('n'), v({ a: [1, { b: 2 }] })], [k('id'), v('late')]])), 'm', /extension/, 'late');
  refusal(t, mp(mpMap([[k('id'), v(3)], [k('op'), v('msg.send')], [k('op'), v('conv.group')]])), 'op', /repeats/, 3);
  // Nested repeats are the client's own metadata and are not the routing layer's business.
  t.ok(json('{"id":1,"op":"ping","metadata":{"a":1,"a":2}}').ok);
});

t.test('nesting is bounded before anything recurses', async (t) => {
  const deep = (n: number): string => `{"id":1,"op":"msg.send","metadata":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`;
  t.ok(json(deep(MAX_NESTING_DEPTH - 1)).ok, 'at the limit');
  refusal(t, json(deep(MAX_NESTING_DEPTH)), 'metadata', /nested deeper/, 1);
  refusal(t, json(deep(20_000)), 'metadata', /nested deeper/, 1);
  refusal(t, json(`{"op":"msg.send","metadata":${'['.repeat(20_000)}${']'.repeat(20_000)},"id":"after"}`), 'metadata', /nested deeper/, 'after');
  const arrays = Buffer.concat([Buffer.from([0x82]), k('id'), v(1), k('metadata'), Buffer.alloc(20_000, 0x91), Buffer.from([0x01])]);
  refusal(t, mp(arrays), 'metadata', /nested deeper/, 1);
  refusal(t, json(`{"id":1,"op":${'['.repeat(20_000)}${']'.repeat(20_000)}}`), 'op', /nested deeper/, 1);
});

t.test('strings PostgreSQL would refuse or change are refused, naming the field', async (t) => {
  refusal(t, json('{"id":1,"op":"msg.send","metadata":{"k":"a\\u0000b"}}'), 'metadata', /NUL/, 1);
  refusal(t, json('{"id":1,"op":"msg.send","metadata":{"k":"\\ud800"}}'), 'metadata', /surrogate/, 1);
  refusal(t, json('{"id":1,"op":"msg.send","metadata":{"k":"\\udc00x"}}'), 'metadata', /surrogate/, 1);
  refusal(t, json('{"id":1,"op":"msg.send","attachments":[{"media_type":"\\ud83d"}]}'), 'attachments', /surrogate/, 1);
  t.ok(json('{"id":1,"op":"msg.send","metadata":{"k":"\\ud83d\\ude00 \\u00e9"}}').ok, 'a surrogate pair is fine');
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('metadata'), mpMap([[k('k'), Buffer.from([0xa2, 0xff, 0xfe])]])]])), 'metadata', /UTF-8/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('media_type'), v('a\u0000b')]])), 'media_type', /NUL/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('metadata'), mpMap([[v(1), v(2)]])]])), 'metadata', /keys must be strings/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('metadata'), mpMap([[k('__proto__'), v(1)]])]])), 'metadata', /__proto__/, 1);
  refusal(t, json('{"id":1,"metadata":{"__proto__":{"x":1}}}'), 'metadata', /__proto__/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('x'), Buffer.from([0xd4, 0x01, 0x05])]])), 'x', /extension/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('n'), Buffer.from([0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0])]])), 'n', /finite/, 1);
  refusal(t, mp(mpMap([[k('id'), v(1)], [k('n'), Buffer.from([0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0])]])), 'n', /2\^53/, 1);
  refusal(t, json('{"id":1,"n":1e400}'), 'n', /finite/, 1);
});

t.test('what is not a decodable object is undecodable, with a message that says which', async (t) => {
  for (const [bytes, binary, message] of [
    [Buffer.from('{nope'), false, /not valid JSON/],
    [Buffer.from('[1,2]'), false, /not an object/],
    [Buffer.from('"hi"'), false, /not an object/],
    [Buffer.from('{"a":1} x'), false, /not valid JSON/],
    [Buffer.from('{"a":"unterminated'), false, /not valid JSON/],
    [Buffer.from([0xc1]), true, /not valid MessagePack|not an object/],
    [Buffer.from([0x05]), true, /not an object/],
    [Buffer.from([0x82, 0xa1, 0x61]), true, /not valid MessagePack/],
    [Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), true, /not valid MessagePack/],
    [Buffer.from([0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff]), true, /not valid MessagePack/],
  ] as const) {
    const r = scanFrame(bytes, binary);
    t.notOk(r.ok, bytes.toString('hex'));
    if (!r.ok) {
      t.equal(r.failure.kind, 'undecodable');
      t.match(r.failure.error.message, message);
    }
  }
});

t.test('ids the protocol cannot answer with are flagged', async (t) => {
  t.equal(headOf(json('{"id":{"a":1},"op":"ping"}')).badId, true);
  t.equal(headOf(json(`{"id":"${'x'.repeat(129)}","op":"ping"}`)).badId, true);
  t.equal(headOf(json('{"id":9007199254740993,"op":"ping"}')).badId, true);
  t.equal(headOf(json('{"id":-5,"op":"ping"}')).id, -5);
  t.equal(headOf(json('{"op":["x"]}')).opType, 'array');
});

// The property that makes routing safe: whenever the decoder accepts a frame the
// scanner accepted, their top-level fields agree.
t.test('property: the scanner agrees with JSON.parse and msgpackr on every object they both accept', async () => {
  const key = fc.oneof(fc.constantFrom('id', 'op', 'conversation_id', 'user_id', '__proto_', 'metadata'), fc.string({ maxLength: 6 }));
  const value = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string(), fc.constantFrom(CONV, 'msg.send', 'conv.group'), fc.integer());
  const entries = fc.array(fc.tuple(key, value), { maxLength: 8 });
  fc.assert(
    fc.property(entries, fc.boolean(), (list, spaced) => {
      const text = `{${list.map(([kk, vv]) => `${JSON.stringify(kk)}${spaced ? ' : ' : ':'}${JSON.stringify(vv)}`).join(spaced ? ' , ' : ',')}}`;
      const r = json(text);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const unique = new Set(list.map(([kk]) => kk)).size === list.length;
      if (!unique) return !r.ok;
      if (findRequestId(Buffer.from(text), false) !== usableId(parsed.id)) return false;
      if (!r.ok) return r.failure.kind === 'refused'; // NUL, surrogates or depth in a generated string
      return agrees(r.head, parsed);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(entries, (list) => {
      const bytes = mpMap(list.map(([kk, vv]) => [k(kk), v(vv)]));
      const r = mp(bytes);
      const unique = new Set(list.map(([kk]) => kk)).size === list.length;
      if (!unique) return !r.ok;
      const decoded = unpackr.unpack(bytes) as Record<string, unknown>;
      if (findRequestId(bytes, true) !== usableId(decoded.id)) return false;
      if (!r.ok) return r.failure.kind === 'refused';
      return agrees(r.head, decoded);
    }),
    { numRuns: 3000 },
  );
});

function usableId(id: unknown): string | number | null {
  return (typeof id === 'string' && id.length <= 128) || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

function agrees(h: FrameHead, decoded: Record<string, unknown>): boolean {
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  return h.op === str(decoded.op) && h.conversationId === str(decoded.conversation_id) && h.userId === str(decoded.user_id) && (h.badId || h.id === (decoded.id ?? null));
}

t.test('random bytes never throw and never come back as a head that the decoder disagrees with', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, binary) => {
      const r = scanFrame(bytes, binary);
      if (!r.ok) return true;
      let decoded: unknown;
      try {
        decoded = binary ? unpackr.unpack(bytes) : JSON.parse(Buffer.from(bytes).toString('utf8'));
      } catch {
        return true; // the worker's decoder refuses it: answered as a bad frame there
      }
      return decoded !== null && typeof decoded === 'object' && agrees(r.head, decoded as Record<string, unknown>);
    }),
    { numRuns: 5000 },
  );
});
