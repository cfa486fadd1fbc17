// kill -9 of the node that owns a conversation (and took its sched.create) just
// before a scheduled message is due: another node's processor runs the job, the
// send goes to the conversation's new owner, and the message arrives once.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@whispr/protocol';
import { directConversationId } from '@whispr/store';
import { startProcessCluster, waitUntil } from './helpers/process-cluster.ts';

t.test('the owner killed 300 ms before the due time', async (t) => {
  const c = await startProcessCluster(t, { nodes: 3 });
  const ring = await c.ringView();
  const victim = c.nodes[1];
  if (!victim) throw new Error('no node 2');
  let pair: [string, string];
  do pair = [randomUUID(), randomUUID()];
  while (ring.ownerOf(directConversationId(pair[0], pair[1])) !== victim.nodeId);
  const [alice, bob] = pair;
  const a = await c.connect(alice, 1);
  const b = await c.connect(bob, 2);
  const got: Message[] = [];
  b.on('msg.new', (ev) => got.push(ev.message));
  const { conversation } = await a.direct(bob);
  const due = Date.now() + 4000;
  const { scheduled } = await a.scheduleMessage(conversation.id, due, { content: 'despite the crash', clientRandom: 1234 });
  await sleep(due - Date.now() - 300);
  victim.signal('SIGKILL');
  await victim.exited;
  await waitUntil('bob got the scheduled message', () => got.some((m) => m.conversation_id === conversation.id), c.graceMs + 20_000);
  const arrivedAfter = Date.now() - due;
  await sleep(3000);
  const mine = got.filter((m) => m.conversation_id === conversation.id);
  t.equal(mine.length, 1, `arrived once, ${arrivedAfter} ms after its due time`);
  t.equal(mine[0]?.client_random, 1234, 'with its client_random');
  const stored = await c.pg.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE conversation_id = $1', [conversation.id]);
  t.equal(Number(stored.rows[0]?.n), 1, 'stored once');
  const row = await c.pg.query<{ is_sent: boolean }>('SELECT is_sent FROM scheduled_messages WHERE id = $1', [scheduled.id]);
  t.equal(row.rows[0]?.is_sent, true, 'marked sent');
});
