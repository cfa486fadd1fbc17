import { randomUUID } from 'node:crypto';
import t from 'tap';
import { encodeFrame } from '@whispr/protocol';
import type { WhisprClient } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';

interface RawReply {
  re: unknown;
  ok: boolean;
  error?: { code: string; message: string };
}

/** Sends raw bytes and resolves with the next reply frame the client could not match to a request. */
function rawReply(c: WhisprClient, data: string | Uint8Array, binary: boolean): Promise<RawReply> {
  return new Promise((resolve) => {
    const onReply = (reply: unknown): void => {
      c.off('reply.unmatched', onReply);
      resolve(reply as RawReply);
    };
    c.on('reply.unmatched', onReply);
    c.sendRaw(data, binary);
  });
}

t.test('bad frames of every kind get the right error and the connection survives', async (t) => {
  const n = await startTestNode(t, { limits: { max_frame_bytes: 64 * 1024, max_content_bytes: 1024, max_metadata_bytes: 256 } });
  const alice = randomUUID();
  const a = await n.connect(alice);
  const m = await n.connect(randomUUID(), 'msgpack');
  const { conversation } = await a.direct(randomUUID());
  const cid = conversation.id;

  const cases: [string, string | Uint8Array, boolean, unknown, string][] = [
    ['not JSON', '{nope', false, null, 'bad_request'],
    ['not MessagePack', new Uint8Array([0xc1, 0xc1]), true, null, 'bad_request'],
    ['JSON array', '[1,2]', false, null, 'bad_request'],
    ['JSON string', '"hi"', false, null, 'bad_request'],
    ['MessagePack number', encodeFrame(5, 'msgpack'), true, null, 'bad_request'],
    ['no op', JSON.stringify({ id: 'x1' }), false, 'x1', 'bad_request'],
    ['unknown op', JSON.stringify({ id: 'x2', op: 'nope' }), false, 'x2', 'bad_request'],
    ['bad id type', JSON.stringify({ id: { a: 1 }, op: 'ping' }), false, null, 'bad_request'],
    ['missing field', JSON.stringify({ id: 'x3', op: 'msg.send', conversation_id: cid, client_random: 1, type: 'text' }), false, 'x3', 'bad_request'],
    ['bad uuid', JSON.stringify({ id: 'x4', op: 'msg.history', conversation_id: 'NOT-A-UUID' }), false, 'x4', 'bad_request'],
    ['bad base64', JSON.stringify({ id: 'x5', op: 'msg.send', conversation_id: cid, client_random: 1, type: 'text', content: '!!!' }), false, 'x5', 'bad_request'],
    ['client_random out of int32', JSON.stringify({ id: 'x6', op: 'msg.send', conversation_id: cid, client_random: 2 ** 40, type: 'text', content: 'aGk=' }), false, 'x6', 'bad_request'],
    ['system type from a client', JSON.stringify({ id: 'x7', op: 'msg.send', conversation_id: cid, client_random: 1, type: 'system', content: 'aGk=' }), false, 'x7', 'bad_request'],
    ['content too large', JSON.stringify({ id: 'x8', op: 'msg.send', conversation_id: cid, client_random: 1, type: 'text', content: Buffer.alloc(2000).toString('base64') }), false, 'x8', 'too_large'],
    ['metadata too large', JSON.stringify({ id: 'x9', op: 'msg.send', conversation_id: cid, client_random: 2, type: 'text', content: 'aGk=', metadata: { pad: 'x'.repeat(300) } }), false, 'x9', 'too_large'],
    ['history limit over history_max', JSON.stringify({ id: 'x10', op: 'msg.history', conversation_id: cid, limit: 100000 }), false, 'x10', 'bad_request'],
  ];
  for (const [name, data, binary, re, code] of cases) {
    const client = binary ? m : a;
    const reply = await rawReply(client, data, binary);
    t.equal(reply.ok, false, `${name}: refused`);
    t.equal(reply.error?.code, code, `${name}: ${code}`);
    t.same(reply.re, re, `${name}: re`);
  }
  const field = await rawReply(a, JSON.stringify({ id: 'f', op: 'msg.send', conversation_id: cid, client_random: 1, type: 'text' }), false);
  t.match(field.error?.message, /content/, 'the message names the missing field');
  t.ok((await a.ping()).server_time > 0, 'the JSON connection still works');
  t.ok((await m.ping()).server_time > 0, 'the MessagePack connection still works');
});

t.test('20 consecutive undecodable frames close with 1008; a valid frame resets the count', async (t) => {
  const n = await startTestNode(t);
  const a = await n.connect(randomUUID());
  for (let i = 0; i < 19; i++) await rawReply(a, '{bad', false);
  await a.ping();
  for (let i = 0; i < 19; i++) await rawReply(a, '{bad', false);
  t.ok((await a.ping()).server_time, 'still open after 2 x 19 bad frames with a good one between');
  const closed = new Promise<number>((resolve) => a.on('close', (ev) => resolve(ev.code)));
  for (let i = 0; i < 20; i++) a.sendRaw('{bad', false);
  t.equal(await closed, 1008);
});

t.test('a frame over max_frame_bytes closes with 1009', async (t) => {
  const n = await startTestNode(t, { limits: { max_frame_bytes: 16 * 1024 } });
  const a = await n.connect(randomUUID());
  const closed = new Promise<number>((resolve) => a.on('close', (ev) => resolve(ev.code)));
  a.sendRaw(JSON.stringify({ id: 1, op: 'ping', pad: 'x'.repeat(20 * 1024) }), false);
  t.equal(await closed, 1009);
});
