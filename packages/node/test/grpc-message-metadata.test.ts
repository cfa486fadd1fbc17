// GetMessageMetadata: what describes a message, never its content; a message
// of another conversation, or a conversation that does not exist, is NOT_FOUND.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { GrpcStatus as status } from '@whispr/grpc';
import { startTestNode } from './helpers/test-node.ts';
import { grpcClient, grpcConfig, statusOf } from './helpers/grpc.ts';

t.test('metadata of a message, without its content', async (t) => {
  const n = await startTestNode(t, { workers: 1, grpc: grpcConfig() });
  const api = grpcClient(t, n.node);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const { conversation } = await a.direct(bob);
  const sent = await a.send(conversation.id, { content: 'secret words', metadata: { hint: 'secret' } });
  const { message } = await api.getMessageMetadata({ conversation_id: conversation.id, message_id: sent.message.id });
  t.same(message, {
    id: sent.message.id, conversation_id: conversation.id, seq: 1, sender_id: alice, type: 'text', reply_to_id: '',
    sent_at: sent.message.sent_at, edited_at: 0, is_deleted: false, delete_for_everyone: false, attachment_count: 0,
  }, 'every field, as stored');
  t.notMatch(JSON.stringify(message), /secret/, 'neither content nor metadata');

  const other = (await a.direct(carol)).conversation;
  const s = await statusOf(api.getMessageMetadata({ conversation_id: other.id, message_id: sent.message.id }));
  t.equal(s.code, status.NOT_FOUND, 'a message of another conversation');
  t.equal((await statusOf(api.getMessageMetadata({ conversation_id: conversation.id, message_id: randomUUID() }))).code, status.NOT_FOUND, 'no such message');
  t.equal((await statusOf(api.getMessageMetadata({ conversation_id: randomUUID(), message_id: sent.message.id }))).code, status.NOT_FOUND, 'no such conversation');
  t.equal((await statusOf(api.getMessageMetadata({ conversation_id: conversation.id, message_id: 'm1' }))).code, status.INVALID_ARGUMENT, 'a message id that is no UUID');
  t.equal((await statusOf(api.getMessageMetadata({ message_id: sent.message.id }))).code, status.INVALID_ARGUMENT, 'no conversation id');
});
