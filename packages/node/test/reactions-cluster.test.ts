// Reactions and pins across nodes: requested from nodes that do not own the
// conversation, run by its owner, announced to members' connections on every node.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { directConversationId } from '@whispr/store';
import { startTestCluster } from './helpers/test-cluster.ts';

t.test('a reaction and a pin from a non-owner node reach the other member on a third node', async (t) => {
  const c = await startTestCluster(t, 3);
  let pair: [string, string] = [randomUUID(), randomUUID()];
  while (c.ownerIndex(directConversationId(pair[0], pair[1])) !== 2) pair = [randomUUID(), randomUUID()];
  const [alice, bob] = pair;
  const a = await c.connect(alice, 0);
  const b = await c.connect(bob, 1, 'msgpack');
  const { conversation } = await a.direct(bob);
  t.equal(c.ownerIndex(conversation.id), 2, 'owned by neither client’s node');
  const { message } = await a.send(conversation.id, { content: 'across' });

  const reaction = b.waitFor('reaction', (ev) => ev.message_id === message.id);
  await a.react(conversation.id, message.id, '👍');
  t.match(await reaction, { conversation_id: conversation.id, user_id: alice, reaction: '👍', added: true }, 'the reaction event crossed nodes');
  const pin = a.waitFor('pin', (ev) => ev.message_id === message.id);
  await b.pin(conversation.id, message.id);
  t.match(await pin, { conversation_id: conversation.id, user_id: bob, pinned: true }, 'the pin event crossed back');

  const pins = await a.pins(conversation.id);
  t.match(pins.pins, [{ pinned_by: bob, message: { id: message.id, reactions: [{ reaction: '👍', count: 1, me: true }] } }], 'conv.pins from a non-owner node');
  t.same((await b.history(conversation.id)).messages[0]?.reactions, [{ reaction: '👍', count: 1, me: false }], 'history from another node, me for bob');
});
