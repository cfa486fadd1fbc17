import t from 'tap';
import {
  decodeFrame,
  encodeFrame,
  isPlainObject,
  validateRequest,
  type Encoding,
} from '@whispr/protocol';
import { buildRequest, decodeIncoming, encodeRequest } from '../src/wire.ts';
import { contentBytes } from '../src/content.ts';

const ENCODINGS: readonly Encoding[] = ['json', 'msgpack'];
const CONV = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';

/** Runs a frame the SDK built through the server's own decode + validation. */
function asServerSees(frame: Record<string, unknown>, encoding: Encoding): unknown {
  const decoded = decodeFrame(encodeRequest(frame, encoding), encoding);
  if (!isPlainObject(decoded)) throw new Error('not an object');
  return validateRequest(decoded, encoding);
}

t.test('requests the SDK builds pass the protocol validator in both encodings', async (t) => {
  for (const encoding of ENCODINGS) {
    const send = buildRequest(1, 'msg.send', {
      conversation_id: CONV,
      client_random: -7,
      type: 'text',
      content: contentBytes('héllo'),
      metadata: undefined,
      reply_to_id: undefined,
      attachments: undefined,
    });
    const seen = asServerSees(send, encoding) as { content: Uint8Array };
    t.same(Buffer.from(seen.content).toString('utf8'), 'héllo', `${encoding}: content survives as bytes`);
    asServerSees(buildRequest(2, 'msg.history', { conversation_id: CONV, before_seq: undefined, limit: 5 }), encoding);
    asServerSees(buildRequest(3, 'conv.list', { limit: undefined, before: undefined }), encoding);
    asServerSees(buildRequest(4, 'sync', { cursors: [{ conversation_id: CONV, after_seq: 3 }], limit: undefined }), encoding);
    asServerSees(buildRequest(5, 'ping', {}), encoding);
    t.pass(`${encoding}: history, list, sync, ping validate`);
  }
});

t.test('undefined fields are not sent, and fields cannot override id or op', async (t) => {
  const frame = buildRequest(9, 'ping', { id: 'evil', op: 'msg.send', limit: undefined });
  t.same(frame, { id: 9, op: 'ping' });
  t.notOk('limit' in frame);
});

t.test('incoming frames: replies, events and garbage, by frame type', async (t) => {
  for (const encoding of ENCODINGS) {
    const binary = encoding === 'msgpack';
    const ok = decodeIncoming(Buffer.from(encodeFrame({ re: 4, ok: true, server_time: 5 }, encoding)), binary);
    t.same(ok, { kind: 'reply', reply: { re: 4, ok: true, server_time: 5 } }, `${encoding}: ok reply`);

    const err = decodeIncoming(
      Buffer.from(encodeFrame({ re: 'a', ok: false, error: { code: 'rate_limited', message: 'slow down', retry_after_ms: 250 } }, encoding)),
      binary,
    );
    t.same(err, { kind: 'reply', reply: { re: 'a', ok: false, error: { code: 'rate_limited', message: 'slow down', retry_after_ms: 250 } } });

    const msg = { ev: 'msg.new', message: { conversation_id: CONV, seq: 1, content: new Uint8Array([1, 2]) } };
    const event = decodeIncoming(Buffer.from(encodeFrame(msg, encoding)), binary);
    t.equal(event.kind, 'event');
    if (event.kind === 'event') {
      const content = (event.event.message as { content: unknown }).content;
      t.ok(content instanceof Uint8Array, `${encoding}: event content is bytes`);
    }

    t.equal(decodeIncoming(Buffer.from(encodeFrame([1, 2], encoding)), binary).kind, 'invalid', `${encoding}: array`);
    t.equal(decodeIncoming(Buffer.from(encodeFrame({ hello: 1 }, encoding)), binary).kind, 'invalid', `${encoding}: neither`);
  }
  t.equal(decodeIncoming(Buffer.from('{nope'), false).kind, 'invalid', 'broken JSON');
  t.equal(decodeIncoming(Buffer.from([0xc1]), true).kind, 'invalid', 'broken MessagePack');
});

t.test('an error reply without an error object still becomes an error', async (t) => {
  const incoming = decodeIncoming(Buffer.from('{"re":null,"ok":false}'), false);
  t.same(incoming, { kind: 'reply', reply: { re: null, ok: false, error: { code: 'internal', message: 'error reply without a message' } } });
});

t.test('fragmented and ArrayBuffer payloads decode like a Buffer', async (t) => {
  const bytes = Buffer.from('{"re":1,"ok":true}');
  t.equal(decodeIncoming([bytes.subarray(0, 5), bytes.subarray(5)], false).kind, 'reply');
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  t.equal(decodeIncoming(copy, false).kind, 'reply');
});

t.test('metadata and settings come back as sent, content everywhere else as bytes', async (t) => {
  const message = { seq: 1, content: new Uint8Array([1]), metadata: { content: 'caption', nested: { content: 'deep' } } };
  const reply = {
    re: 1,
    ok: true,
    conversations: [{ conversation: { metadata: { content: 'x' }, members: [{ settings: { content: 'y' } }] }, last_message: message }],
    messages: [message],
  };
  for (const encoding of ENCODINGS) {
    const incoming = decodeIncoming(Buffer.from(encodeFrame(reply, encoding)), encoding === 'msgpack');
    t.equal(incoming.kind, 'reply');
    if (incoming.kind !== 'reply') continue;
    const back = incoming.reply as unknown as typeof reply;
    t.same(back.messages[0]?.metadata, { content: 'caption', nested: { content: 'deep' } }, `${encoding}: metadata untouched`);
    t.same(back.conversations[0]?.conversation.metadata, { content: 'x' });
    t.same(back.conversations[0]?.conversation.members[0]?.settings, { content: 'y' });
    t.ok(back.conversations[0]?.last_message.content instanceof Uint8Array, `${encoding}: nested message content is bytes`);
    t.same([...(back.messages[0]?.content ?? [])], [1]);
  }
  const edited = decodeIncoming(Buffer.from(encodeFrame({ ev: 'msg.edited', content: new Uint8Array([7]), metadata: {} }, 'json')), false);
  t.ok(edited.kind === 'event' && edited.event.content instanceof Uint8Array, 'top-level content of an event');
});
