// An internal call on the node that owns the conversation: it runs through the
// same dispatch table as a client's frame, as the principal the node gives it.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { WhisprError, type Message } from '@whispr/protocol';
import type { TestNode } from './helpers/test-node.ts';
import { startTestNode } from './helpers/test-node.ts';

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (err: unknown) => (err instanceof WhisprError ? err.code : `not a WhisprError: ${String(err)}`));

async function directPair(n: TestNode): Promise<{ alice: string; bob: string; conversationId: string }> {
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  return { alice, bob, conversationId: conversation.id };
}

t.test('a msg.send as a member arrives as an ordinary msg.new, acknowledged after commit', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const { alice, bob, conversationId } = await directPair(n);
  const b = await n.connect(bob, 'msgpack');
  const arrived = b.waitFor('msg.new', (ev) => ev.message.conversation_id === conversationId);
  const result = await n.node.internal.call({ kind: 'user', userId: alice }, {
    op: 'msg.send', conversation_id: conversationId, client_random: 77, type: 'text', content: Buffer.from('from a job'),
  });
  t.equal(result.message.seq, 1, 'the first seq');
  const message: Message = (await arrived).message;
  t.equal(message.sender_id, alice, 'sent as alice');
  t.equal(message.client_random, 77, 'with the given client_random');
  t.equal(Buffer.from(message.content).toString(), 'from a job', 'content intact');
  const again = await n.node.internal.call({ kind: 'user', userId: alice }, {
    op: 'msg.send', conversation_id: conversationId, client_random: 77, type: 'text', content: Buffer.from('from a job'),
  });
  t.equal(again.duplicate, true, 'the same client_random is idempotent, as for a client');
  t.equal(again.message.id, result.message.id, 'same message');
  const history = await n.node.internal.call({ kind: 'user', userId: bob }, { op: 'msg.history', conversation_id: conversationId });
  t.equal(history.messages.length, 1, 'one message stored');
});

t.test('the principal decides: a non-member is forbidden, a missing conversation is not_found, bad input is bad_request', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const { conversationId } = await directPair(n);
  const stranger = randomUUID();
  t.equal(await codeOf(n.node.internal.call({ kind: 'user', userId: stranger }, { op: 'conv.get', conversation_id: conversationId })), 'forbidden', 'non-member');
  t.equal(await codeOf(n.node.internal.call({ kind: 'user', userId: stranger }, { op: 'conv.get', conversation_id: randomUUID() })), 'not_found', 'no such conversation');
  t.equal(await codeOf(n.node.internal.call({ kind: 'user', userId: 'alice' }, { op: 'conv.get', conversation_id: conversationId })), 'bad_request', 'a user id that is not a UUID');
  t.equal(await codeOf(n.node.internal.call({ kind: 'user', userId: '00000000-0000-0000-0000-000000000000' }, { op: 'conv.get', conversation_id: conversationId })), 'bad_request', 'the service’s placeholder id is no user');
  t.equal(await codeOf(n.node.internal.call({ kind: 'user', userId: stranger }, { op: 'conv.get', conversation_id: 'not-a-uuid' })), 'bad_request', 'a field the schema refuses');
});

t.test('the service reads any conversation without being a member, but cannot send in one, read its content or act as a user', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const { alice, conversationId } = await directPair(n);
  await n.node.internal.call({ kind: 'user', userId: alice }, { op: 'msg.send', conversation_id: conversationId, client_random: 1, type: 'text', content: Buffer.from('x') });
  const got = await n.node.internal.call({ kind: 'service' }, { op: 'conv.get', conversation_id: conversationId });
  t.equal(got.conversation.id, conversationId, 'conv.get as the service');
  t.equal(got.conversation.last_seq, 1, 'its metadata as the service');
  t.equal(await codeOf(n.node.internal.call({ kind: 'service' }, { op: 'msg.history', conversation_id: conversationId })), 'forbidden', 'content is the members’ (msg.history checks membership itself)');
  t.equal(await codeOf(n.node.internal.call({ kind: 'service' }, { op: 'msg.send', conversation_id: conversationId, client_random: 2, type: 'text', content: Buffer.from('y') })), 'forbidden', 'the service is no sender');
  t.equal(await codeOf(n.node.internal.call({ kind: 'service' }, { op: 'conv.list' })), 'bad_request', 'user ops are not the service’s');
  t.equal(await codeOf(n.node.internal.call({ kind: 'service' }, { op: 'conv.get', conversation_id: randomUUID() })), 'not_found', 'missing conversation');
});
