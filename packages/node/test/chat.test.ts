import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { MsgNewEvent } from '@whispr/protocol';
import { startTestNode } from './helpers/test-node.ts';

t.test('two users chat over real WebSockets', async (t) => {
  const n = await startTestNode(t);
  const alice = randomUUID();
  const bob = randomUUID();
  const a = await n.connect(alice);
  const b = await n.connect(bob, 'msgpack');
  t.equal(a.hello.user_id, alice);

  const bobSees = new Promise<MsgNewEvent>((resolve) => b.on('msg.new', resolve));
  const { conversation } = await a.direct(bob);
  t.equal(conversation.type, 'direct');
  t.same(new Set(conversation.members.map((m) => m.user_id)), new Set([alice, bob]));
  const again = await b.direct(alice);
  t.equal(again.conversation.id, conversation.id, 'both sides get the same direct conversation');

  const sent = await a.send(conversation.id, { content: 'hello bob' });
  t.equal(sent.message.seq, 1);
  const ev = await bobSees;
  t.equal(Buffer.from(ev.message.content).toString(), 'hello bob');
  t.equal(ev.message.seq, 1);
  t.equal(ev.message.sender_id, alice);

  const history = await b.history(conversation.id);
  t.equal(history.messages.length, 1);
  t.equal(Buffer.from(history.messages[0]!.content).toString(), 'hello bob');
});
