import t from 'tap';
import { encodeFrame } from '../src/codec.ts';
import { peekFrame } from '../src/peek.ts';

const CONV = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';

t.test('peek finds op and conversation_id in JSON and MessagePack frames', async (t) => {
  const request = { id: 1, op: 'msg.send', conversation_id: CONV, client_random: 1, type: 'text', content: new Uint8Array(3) };
  t.same(peekFrame(encodeFrame(request, 'json'), false), { op: 'msg.send', conversationId: CONV });
  t.same(peekFrame(encodeFrame(request, 'msgpack'), true), { op: 'msg.send', conversationId: CONV });
});

t.test('peek tolerates whitespace in JSON', async (t) => {
  const raw = Buffer.from(`{ "op" : "conv.get" ,\n "conversation_id" :\t"${CONV}" }`);
  t.same(peekFrame(raw, false), { op: 'conv.get', conversationId: CONV });
});

t.test('frames without a conversation peek to null', async (t) => {
  t.same(peekFrame(encodeFrame({ id: 2, op: 'ping' }, 'json'), false), { op: 'ping', conversationId: null });
  t.same(peekFrame(encodeFrame({ id: 2, op: 'ping' }, 'msgpack'), true), { op: 'ping', conversationId: null });
  t.same(peekFrame(Buffer.from('garbage'), false), { op: null, conversationId: null });
});

t.test('a conversation_id that is not a lowercase UUID is not routed on', async (t) => {
  const upper = CONV.toUpperCase();
  t.same(peekFrame(encodeFrame({ op: 'conv.get', conversation_id: upper }, 'json'), false), { op: 'conv.get', conversationId: null });
  t.same(peekFrame(encodeFrame({ op: 'conv.get', conversation_id: 'short' }, 'msgpack'), true), { op: 'conv.get', conversationId: null });
});
