import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { MsgNewEvent } from '@whispr/protocol';
import { checkMatrix, codeOf, matrixSetup } from './helpers/message-matrix.ts';

t.test('attachments are stored as message_attachments rows and carried by every message object', async (t) => {
  const s = await matrixSetup(t);
  t.equal(s.a.hello.limits.max_attachments, 32, 'the bound is announced in hello');
  t.equal(s.a.hello.limits.max_media_type_length, 50);
  const attachments = [
    { media_id: randomUUID(), media_type: 'image/jpeg', metadata: { width: 640, height: 480 } },
    { media_id: randomUUID(), media_type: 'video/mp4' },
  ];
  const heard = s.b.waitFor('msg.new', (e) => e.message.type === 'media');
  const clientRandom = 424242;
  const sent = (await s.a.send(s.group, { type: 'media', content: 'two files', attachments, clientRandom })).message;
  const expected = [
    { media_id: attachments[0]!.media_id, media_type: 'image/jpeg', metadata: { width: 640, height: 480 } },
    { media_id: attachments[1]!.media_id, media_type: 'video/mp4', metadata: {} },
  ];
  const live: MsgNewEvent = await heard;
  t.match(live.message.attachments, expected, 'msg.new carries them (msgpack)');
  const ids = live.message.attachments.map((x) => x.id);
  t.ok(ids.every((id) => /^[0-9a-f-]{36}$/.test(id)), 'each has its own id');

  const fromGet = (await s.a.getMessage(s.group, sent.id)).message.attachments;
  const fromHistory = (await s.b.history(s.group)).messages.find((m) => m.id === sent.id)?.attachments;
  const fromSync = (await s.a.sync([{ conversation_id: s.group, after_seq: 0 }])).conversations[0]!.messages.find((m) => m.id === sent.id)?.attachments;
  for (const [where, got] of [['msg.get', fromGet], ['msg.history', fromHistory], ['sync', fromSync]] as const) {
    t.same(got?.map((x) => x.id).sort(), [...ids].sort(), `${where}: the same attachments`);
    t.match(got?.slice().sort((x, y) => (x.media_type < y.media_type ? -1 : 1)), expected, `${where}: their fields`);
  }
  const rows = await s.db.query('SELECT id, media_id, media_type, metadata FROM message_attachments WHERE message_id = $1', [sent.id]);
  t.equal(rows.rowCount, 2, 'two rows, references only');

  t.equal((await s.a.send(s.group, { type: 'media', content: 'two files', attachments, clientRandom })).duplicate, true, 'a retry is a duplicate');
  t.equal((await s.db.query('SELECT 1 FROM message_attachments WHERE message_id = $1', [sent.id])).rowCount, 2, 'and stores no second set');

  // Pipelined sends with attachments: all stored, each with its own (written in group-commit batches).
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => s.b.send(s.group, { type: 'media', content: `p${i}`, attachments: [{ media_id: randomUUID(), media_type: 'image/png' }] })));
  const counted = await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_attachments WHERE message_id = ANY($1::uuid[])', [many.map((r) => r.message.id)]);
  t.equal(counted.rows[0]?.n, 20);

  // Refused at the edge: nothing stored.
  const one = { media_id: randomUUID(), media_type: 'image/png' };
  const refusals: [string, unknown[]][] = [
    ['too many', Array.from({ length: 33 }, () => one)],
    ['a media_type over 50 characters', [{ ...one, media_type: `image/${'x'.repeat(50)}` }]],
    ['a media_type that is not a MIME type', [{ ...one, media_type: 'not a type' }]],
    ['a media_id that is not a UUID', [{ ...one, media_id: 'abc' }]],
    ['a missing media_type', [{ media_id: randomUUID() }]],
  ];
  for (const [what, list] of refusals) {
    const code = await codeOf(t, s.a.requestUnchecked('msg.send', { conversation_id: s.group, client_random: Math.floor(Math.random() * 1e9), type: 'media', content: 'bad', attachments: list }));
    t.equal(code, 'bad_request', what);
  }
  const bigMeta = { ...one, metadata: { pad: 'x'.repeat(s.a.hello.limits.max_metadata_bytes) } };
  t.equal(await codeOf(t, s.a.send(s.group, { type: 'media', content: 'big', attachments: [bigMeta] })), 'too_large', 'an attachment’s metadata over max_metadata_bytes');
  t.notOk((await s.a.history(s.group, { limit: 200 })).messages.some((m) => ['bad', 'big'].includes(Buffer.from(m.content).toString())), 'nothing refused was stored');

  await checkMatrix(t, s, (c, conversationId) => c.send(conversationId, { type: 'media', content: 'x', attachments: [one] }), { senderOnly: false, namesMessage: false });
});
