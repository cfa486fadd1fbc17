import t from 'tap';
import { decodeBase64Fields, decodeFrame, decodeServerFrame, encodeFrame, encodingOfFrame, type Encoding } from '../src/codec.ts';
import { WhisprError } from '../src/errors.ts';

const ENCODINGS: readonly Encoding[] = ['json', 'msgpack'];
const CONV = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';

t.test('a request round-trips through encodeFrame/decodeFrame in both encodings', async (t) => {
  for (const enc of ENCODINGS) {
    const content = new Uint8Array([0, 1, 2, 250, 255]);
    const request = { id: 7, op: 'msg.send', conversation_id: CONV, client_random: -12345, type: 'text', content, metadata: { k: 'v' } };
    const decoded = decodeFrame(encodeFrame(request, enc), enc);
    if (enc === 'json') decodeBase64Fields(decoded as Record<string, unknown>);
    t.same(decoded, request, `${enc}: same object back`);
    const back = decoded as { content: unknown };
    t.ok(back.content instanceof Uint8Array, `${enc}: content comes back as bytes`);
  }
});

t.test('JSON carries bytes as padded base64', async (t) => {
  const bytes = encodeFrame({ content: new Uint8Array([104, 105]) }, 'json');
  t.equal(Buffer.from(bytes).toString('utf8'), '{"content":"aGk="}');
});

t.test('server frames decode back with bytes restored on the client side', async (t) => {
  for (const enc of ENCODINGS) {
    const event = { ev: 'msg.new', message: { id: CONV, seq: 3, sender_id: CONV, content: new Uint8Array([9, 8, 7]) } };
    t.same(decodeServerFrame(encodeFrame(event, enc), enc), event, enc);
  }
});

t.test('undecodable frames are bad_request errors', async (t) => {
  t.throws(() => decodeFrame(Buffer.from('{not json'), 'json'), WhisprError);
  t.throws(() => decodeFrame(new Uint8Array([0x92, 0x01]), 'msgpack'), WhisprError);
});

t.test('bad base64 is a field error, raised once the frame is known to be an object with an id', async (t) => {
  const frame = decodeFrame(Buffer.from('{"content":"not base64!"}'), 'json') as Record<string, unknown>;
  t.throws(() => decodeBase64Fields(frame), { code: 'bad_request', message: /^content:/ });
});

t.test('text frames are JSON, binary frames MessagePack', async (t) => {
  t.equal(encodingOfFrame(false), 'json');
  t.equal(encodingOfFrame(true), 'msgpack');
});

t.test('times past 2^32 travel as MessagePack integers, not floats', async (t) => {
  const bytes = Buffer.from(encodeFrame({ server_time: 1795570693407 }, 'msgpack'));
  t.not(bytes.indexOf(0xcb), bytes.length - 9, 'no float64 marker before the value');
  t.ok(bytes.includes(0xd3) || bytes.includes(0xcf), 'an int64/uint64 marker');
  t.same(decodeServerFrame(bytes, 'msgpack'), { server_time: 1795570693407 });
});

t.test('a content key in metadata stays a string on the client side', async (t) => {
  const event = { ev: 'msg.new', message: { seq: 1, sender_id: CONV, content: new Uint8Array([1, 2]), metadata: { content: 'caption' } } };
  t.same(decodeServerFrame(encodeFrame(event, 'json'), 'json'), event);
});
