// What routes a frame is exactly what runs (PROTOCOL.md §3): the attacks the
// hardening issue describes, each refused, and the victims' conversations intact.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Packr } from 'msgpackr';
import { directConversationId } from '@whispr/store';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { msgpackMap, rawReply } from './helpers/raw.ts';

const packr = new Packr({ useRecords: false });
const mp = (value: unknown): Uint8Array => packr.pack(value);

t.test('a second "op" cannot plant a group or a direct conversation at another pair\'s id', async (t) => {
  const n = await startTestNode(t);
  const [attacker, v, y] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(attacker);
  const am = await n.connect(attacker, 'msgpack');
  const x = directConversationId(v, y);

  const plantGroup = `{"id":1,"op":"msg.send","conversation_id":"${x}","op":"conv.group","user_ids":["${v}","${y}"]}`;
  const r1 = await rawReply(a, plantGroup, false);
  t.equal(r1.error?.code, 'bad_request', 'JSON with two ops: refused');
  t.equal(r1.error?.field, 'op');
  t.equal(r1.re, 1);

  const plantDirect = `{"id":2,"op":"msg.history","conversation_id":"${x}","\\u006fp":"conv.direct","user_id":"${v}"}`;
  t.equal((await rawReply(a, plantDirect, false)).error?.code, 'bad_request', 'an escaped second op: refused');

  const mpPlant = msgpackMap([[mp('id'), mp(3)], [mp('op'), mp('msg.send')], [mp('conversation_id'), mp(x)], [mp('op'), mp('conv.group')], [mp('user_ids'), mp([v, y])]]);
  const r3 = await rawReply(am, mpPlant, true);
  t.equal(r3.error?.code, 'bad_request', 'MessagePack map with two ops: refused');
  t.equal(r3.re, 3);

  await t.rejects(a.get(x), { code: 'not_found' }, 'nothing was created at the pair\'s id');
  const cv = await n.connect(v);
  const { conversation } = await cv.direct(y);
  t.equal(conversation.id, x);
  t.equal(conversation.type, 'direct');
  t.same(conversation.members.map((m) => m.user_id).sort(), [v, y].sort(), 'exactly the pair');
  await t.rejects(a.get(x), { code: 'forbidden' }, 'the attacker is not in it');
  await t.rejects(a.history(x), { code: 'forbidden' });
});

t.test('an op nested in metadata never counts: sends are rate-limited as sends', async (t) => {
  const n = await startTestNode(t, { limits: { send_rate_per_s: 5, send_burst: 20 } });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const outcomes = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      a.send(conversation.id, { content: `m${i}`, clientRandom: i + 1, metadata: { op: 'conv.get', id: 5, conversation_id: randomUUID() } }).then(
        () => 'ok',
        (err: unknown) => (err instanceof WhisprRequestError ? err.code : 'other'),
      ),
    ),
  );
  const acked = outcomes.filter((o) => o === 'ok').length;
  t.ok(acked >= 20 && acked <= 24, `about the burst acked (${acked} of 60)`);
  t.equal(outcomes.filter((o) => o === 'rate_limited').length, 60 - acked, 'the rest rate_limited');

  // The old trick: a conversation op first, then msg.send.
  const trick = `{"id":9,"op":"conv.get","conversation_id":"${conversation.id}","op":"msg.send","client_random":99,"type":"text","content":"aGk="}`;
  t.equal((await rawReply(a, trick, false)).error?.code, 'bad_request');
});

t.test('deep nesting and odd ops are answered bad_request, and fail alone', async (t) => {
  const n = await startTestNode(t);
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const deep = `{"id":"deep","op":"msg.send","conversation_id":"${conversation.id}","client_random":1,"type":"text","content":"aGk=","metadata":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`;
  const [deepReply, good] = await Promise.all([
    rawReply(a, deep, false),
    a.send(conversation.id, { content: 'sent in the same turn', clientRandom: 2 }),
  ]);
  t.equal(deepReply.error?.code, 'bad_request');
  t.equal(deepReply.error?.field, 'metadata');
  t.equal(deepReply.re, 'deep');
  t.equal(good.message.seq, 1, 'the frame staged beside it committed');

  const arrayOp = `{"id":"arr","op":${'['.repeat(30)}"x"${']'.repeat(30)}}`;
  const r = await rawReply(a, arrayOp, false);
  t.equal(r.error?.code, 'bad_request', 'an op that is an array');
  t.equal(r.error?.field, 'op');
  const hugeDeepOp = `{"id":"arr2","op":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  t.equal((await rawReply(a, hugeDeepOp, false)).error?.code, 'bad_request', 'an op that is a deeply nested array');
  t.equal((await a.history(conversation.id)).messages.length, 1);
});

t.test('hello announces the bounds', async (t) => {
  const n = await startTestNode(t);
  const a = await n.connect(randomUUID());
  const limits = a.hello.limits as unknown as Record<string, number>;
  for (const name of ['max_group_members', 'max_members_per_add', 'max_sync_cursors', 'max_presence_watch', 'max_nesting_depth', 'max_frame_bytes']) {
    t.ok(Number.isInteger(limits[name]) && (limits[name] ?? 0) > 0, `${name} announced`);
  }
  await t.rejects(a.group(Array.from({ length: limits.max_group_members ?? 0 }, () => randomUUID())), { code: 'bad_request' }, 'a group over max_group_members');
});
