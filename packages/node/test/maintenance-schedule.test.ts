// Scheduling a period's run twice (or from every node) is one BullMQ job, and
// that job runs the retention through the owners.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { periodJobId } from '@whispr/jobs';
import { setRetentionPolicy } from '@whispr/store';
import { startTestNode } from './helpers/test-node.ts';
import { finished, sqlClient, startMaintenance } from './helpers/maintenance.ts';

t.test('a retention run scheduled twice is one job, which expires what the policy says', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = await sqlClient(t, n);
  const alice = randomUUID();
  const a = await n.connect(alice);
  const { conversation } = await a.direct(randomUUID());
  for (let i = 1; i <= 4; i++) await a.send(conversation.id, { content: Buffer.from(`m${i}`) });
  await db.query(`UPDATE messages SET sent_at = sent_at - INTERVAL '3 days' WHERE conversation_id = $1 AND seq <= 2`, [conversation.id]);
  await setRetentionPolicy(db, { conversationId: conversation.id, retentionDays: 2, retainMediaDays: null });

  const first = startMaintenance(t, n);
  const second = startMaintenance(t, n);
  const at = Date.now();
  const ids = [...await first.schedule(at, ['retention']), ...await second.schedule(at, ['retention']), ...await first.schedule(at + 1000, ['retention'])];
  const jobId = periodJobId('retention', at);
  t.same(new Set(ids), new Set([jobId]), 'every call names the same job (the day)');
  t.equal(await finished(first, jobId), 'completed', 'the run completed');
  await first.schedule(at, ['retention']);
  const counts = await first.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  t.same(counts, { waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0 }, 'one job in the queue, even scheduled again after it ran');
  const job = await first.queue.getJob(jobId);
  t.match(job?.returnvalue, { conversations: 1, expired: 2, failed: 0 }, 'it expired the two old messages');
  const { messages } = await a.history(conversation.id);
  t.same(messages.map((m) => [m.seq, m.is_deleted]), [[1, true], [2, true], [3, false], [4, false]], 'the old two are tombstones, seqs kept');
});
