// Operators see the queues in /metrics: jobs per state and the lag.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('a delayed scheduled message shows in whispr_queue_jobs, and both queues have a lag', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const a = await n.connect(randomUUID());
  const { conversation } = await a.direct(randomUUID());
  await a.scheduleMessage(conversation.id, Date.now() + 600_000, { content: 'much later' });
  const text = await (await fetch(`${n.node.httpUrl}/metrics`)).text();
  t.match(text, /whispr_queue_jobs\{queue="scheduled-messages",state="delayed"\} 1/, 'one delayed scheduled message');
  t.match(text, /whispr_queue_jobs\{queue="notifications",state="waiting"\} \d+/, 'the notification queue is counted');
  t.match(text, /whispr_queue_lag_seconds\{queue="scheduled-messages"\} 0/, 'no lag while nothing is due');
});
