/**
 * The fuzzer's own pieces, without a node: the hand-written encoders write what
 * the tree says (repeated keys, escapes, widths, bytes that are not UTF-8), the
 * contract's field checks, reply ids, reply matching, and seed replay.
 */
import t from 'tap';
import { Unpackr } from 'msgpackr';
import { encodeJson } from '../src/fuzz/frame/encode-json.ts';
import { encodeMsgpack } from '../src/fuzz/frame/encode-msgpack.ts';
import { bin, hasRepeatedKey, map, nil, num, str, type FrameNode } from '../src/fuzz/frame/frame-node.ts';
import { buildFrame } from '../src/fuzz/generate/build-frame.ts';
import { certainlyInvalid } from '../src/fuzz/generate/field-specs.ts';
import { recipeAt } from '../src/fuzz/generate/frame-arbitrary.ts';
import { escapedSpelling } from '../src/fuzz/generate/mutate-structure.ts';
import { ANY, badRequest, invalidVersionOf, oneOf, unmet } from '../src/fuzz/oracle/expectation.ts';
import { ReplyMatcher } from '../src/fuzz/oracle/reply-matcher.ts';
import { DECOY_ID_BASE, trackingOf } from '../src/fuzz/oracle/reply-id.ts';
import { classify } from '../src/fuzz/oracle/server-frames.ts';
import type { FuzzIdentity } from '../src/fuzz/run/identity.ts';

const noRefs = (): never => {
  throw new Error('unexpected placeholder');
};
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const identity: FuzzIdentity = {
  userId: '00000000-0000-4000-8000-000000000001',
  own: ['11111111-1111-4111-8111-111111111111'],
  foreign: ['22222222-2222-4222-8222-222222222222'],
  peers: ['33333333-3333-4333-8333-333333333333'],
  limits: { max_frame_bytes: 262144, max_content_bytes: 65536, max_metadata_bytes: 8192 },
};

t.test('JSON: repeated keys, escaped spellings, infinities and raw bytes are written as given', async (t) => {
  const node: FrameNode = {
    t: 'map',
    entries: [
      [str('op'), str('msg.send')],
      [{ t: 'str', v: 'op', json: escapedSpelling('op', 0) }, str('conv.group')],
      [str('n'), { t: 'num', v: Infinity }],
      [str('b'), bin(Uint8Array.from([1, 2, 3]))],
      [str('u'), { t: 'utf8', bytes: Uint8Array.from([0xff]) }],
    ],
  };
  const bytes = encodeJson(node, noRefs);
  t.equal(bytes.toString('latin1'), '{"op":"msg.send","\\u006fp":"conv.group","n":1e400,"b":"AQID","u":"\xff"}');
  t.equal(escapedSpelling('op', 2), '"\\u006f\\u0070"');
  t.same(JSON.parse('{"a":1,' + escapedSpelling('conversation_id', 4) + ':2}'), { a: 1, conversation_id: 2 }, 'an escaped spelling is the same key');
  t.equal(encodeJson({ t: 'nest', depth: 3, container: 'arr', leaf: nil }, noRefs).toString(), '[[[null]]]');
  t.equal(encodeJson({ t: 'repeat', count: 3, item: num(7) }, noRefs).toString(), '[7,7,7]');
});

t.test('MessagePack: repeated keys survive, widths are forced, NaN is a float', async (t) => {
  const bytes = encodeMsgpack(map([['a', num(1)], ['a', num(2)]]), noRefs);
  t.equal(bytes.toString('hex'), '82a16101a16102', 'two entries for one key');
  t.same(unpackr.unpack(bytes), { a: 2 }, 'an ordinary decoder keeps only the last');
  t.equal(encodeMsgpack({ t: 'str', v: 'op', mp: 'str8' }, noRefs).toString('hex'), 'd9026f70');
  t.equal(encodeMsgpack({ t: 'num', v: 7, width: 'f64' }, noRefs).toString('hex'), 'cb401c000000000000');
  t.equal(encodeMsgpack({ t: 'num', v: 7, width: 'i64' }, noRefs).toString('hex'), 'd30000000000000007');
  t.ok(Number.isNaN(unpackr.unpack(encodeMsgpack({ t: 'num', v: NaN }, noRefs))), 'NaN round-trips');
  t.equal(encodeMsgpack(num(-200), noRefs).toString('hex'), 'd1ff38');
  t.equal(encodeMsgpack(num(2 ** 40), noRefs).toString('hex'), 'cf0000010000000000');
  t.equal(encodeMsgpack({ t: 'utf8', bytes: Uint8Array.from([0xc0, 0x80]) }, noRefs).toString('hex'), 'a2c080');
  t.same(unpackr.unpack(encodeMsgpack({ t: 'nest', depth: 2, container: 'map', leaf: num(1) }, noRefs)), { a: { a: 1 } });
  t.same(unpackr.unpack(encodeMsgpack({ t: 'repeat', count: 20, item: str('x') }, noRefs)), new Array(20).fill('x'));
  t.ok(hasRepeatedKey(map([['id', num(1)], ['op', str('ping')], ['id', num(2)]])));
  t.notOk(hasRepeatedKey(map([['id', num(1)], ['op', str('ping')]])));
});

t.test('field checks are certain only where the contract is', async (t) => {
  t.ok(certainlyInvalid('uuid', num(1), false, true));
  t.ok(certainlyInvalid('uuid', str('0190F5B2-0000-7000-8000-000000000000'), false, true), 'upper case is not an id');
  t.notOk(certainlyInvalid('uuid', str('0190f5b2-0000-7000-8000-000000000000'), false, true));
  t.ok(certainlyInvalid('int32', num(2 ** 31), true, true));
  t.ok(certainlyInvalid('int32', num(1.5), true, true));
  t.notOk(certainlyInvalid('int32', { t: 'num', v: 7, json: '7.0' }, false, true), '7.0 parses to an integer');
  t.notOk(certainlyInvalid('seq-or-null', nil, true, false), 'null where null is allowed');
  t.notOk(certainlyInvalid('object', nil, true, false), 'null for an optional field may mean absent');
  t.ok(certainlyInvalid('bytes', str('aGk='), true, true), 'a str is no bin in MessagePack');
  t.notOk(certainlyInvalid('bytes', bin(Uint8Array.from([1])), false, true), 'bytes are base64 text in JSON');
});

t.test('expectations', async (t) => {
  t.equal(unmet(ANY, 'bad_request'), null);
  t.equal(unmet(badRequest('x'), 'bad_request'), null);
  t.equal(unmet(badRequest('x'), 'rate_limited'), null, 'a transient answer is always allowed');
  t.match(unmet(badRequest('x'), 'ok'), /expected bad_request/);
  t.same(invalidVersionOf(oneOf('w', 'forbidden'), 'y'), oneOf('y', 'bad_request', 'forbidden'));
  t.same(invalidVersionOf(ANY, 'y'), ANY);
});

t.test('reply ids map back to tracking numbers; decoys do not', async (t) => {
  t.equal(trackingOf(12), 12);
  t.equal(trackingOf(-12), 12);
  t.equal(trackingOf('f12\u0000nul'), 12);
  t.equal(trackingOf(null), null);
  t.equal(trackingOf(DECOY_ID_BASE + 5), 'foreign');
  t.equal(trackingOf('ZjEy'), 'foreign');
  t.equal(classify({ re: 1, ok: true }).kind, 'reply');
  t.equal(classify({ re: 1, ok: false, error: { code: 'nope', message: '' } }).kind, 'undocumented');
  t.equal(classify({ ok: true }).kind, 'malformed');
  t.equal(classify({ ev: 'hello' }).kind, 'event');
});

t.test('a null reply goes to a frame that may get one, and is handed on when the guess was wrong', async (t) => {
  const frame = (tracking: number, reply: 'id' | 'null' | 'either') => ({
    frame: { ...buildFrame(recipeAt(1, 0), identity, tracking, 0), binary: true, reply },
    sentAt: tracking,
    closer: false,
  });
  const matcher = new ReplyMatcher();
  matcher.add(frame(1, 'id'));
  matcher.add(frame(2, 'either'));
  matcher.add(frame(3, 'null'));
  t.equal(matcher.takeNull(true, () => true)?.frame.tracking, 3, 'a frame that can only get null first');
  t.equal(matcher.takeNull(true, () => true)?.frame.tracking, 2);
  t.equal(matcher.takeNull(true, () => true), undefined, 'a frame with a readable id never takes a null reply');
  matcher.add(frame(4, 'null'));
  const corrected = matcher.correct(2, true);
  t.equal(corrected?.sent.frame.tracking, 2, 'the reply naming 2 is 2\'s');
  t.equal(corrected?.handedOn, 'nullable');
  t.equal(corrected?.to?.frame.tracking, 4, 'the earlier null reply was 4\'s');
  t.equal(matcher.take(1)?.frame.tracking, 1);
  t.equal(matcher.size, 0);
});

t.test('a seed and an index give the same frame', async (t) => {
  for (const index of [0, 1, 255, 256, 9999]) {
    const a = buildFrame(recipeAt(42, index), identity, 7, index);
    const b = buildFrame(recipeAt(42, index), identity, 7, index);
    t.same(a.bytes, b.bytes, `frame ${index}`);
  }
  t.not(buildFrame(recipeAt(42, 3), identity, 7, 3).bytes.toString('hex'), buildFrame(recipeAt(43, 3), identity, 7, 3).bytes.toString('hex'));
});

t.test('the frame mix covers both encodings, every op and the closing frames', async (t) => {
  const labels = new Set<string>();
  let json = 0;
  let closers = 0;
  for (let i = 0; i < 4000; i++) {
    const recipe = recipeAt(5, i);
    const frame = buildFrame(recipe, identity, i + 1, i);
    if (!frame.binary) json++;
    if (frame.closes !== null) closers++;
    for (const label of recipe.labels) labels.add(label.split(':')[0] ?? '');
  }
  t.ok(json > 1500 && json < 2500, `about half JSON (${json})`);
  t.ok(closers > 0, `some frames close the connection (${closers})`);
  for (const op of ['ping', 'conv.direct', 'conv.group', 'conv.get', 'conv.list', 'msg.send', 'msg.history', 'receipt.delivered', 'receipt.read', 'sync', 'unknown-op']) {
    t.ok(labels.has(op), op);
  }
  for (const kind of ['wrong-type', 'missing', 'duplicate-key', 'nested-decoys', 'escaped-keys', 'deep', 'huge-array', 'extension', 'truncated', 'random-bytes', 'id-form', 'number-edge', 'string-edge']) {
    t.ok(labels.has(kind), kind);
  }
});
