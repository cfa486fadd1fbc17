// Archival (seed §11.2) through the owner: an inactive conversation only.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { periodJobId } from '@whispr/jobs';
import { startTestNode } from './helpers/test-node.ts';
import { finished, sqlClient, startMaintenance } from './helpers/maintenance.ts';

t.test('the archival run archives an inactive conversation only, and its owner reloads it', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = await sqlClient(t, n);
  const alice = randomUUID();
  const a = await n.connect(alice);
  const inactive = (await a.direct(randomUUID())).conversation.id;
  const active = (await a.direct(randomUUID())).conversation.id;
  await a.send(inactive, { content: Buffer.from('long ago') });
  await a.send(active, { content: Buffer.from('recently') });
  t.equal((await a.get(inactive)).conversation.is_active, true, 'active before (and loaded by its actor)');
  // Triggers stamp updated_at with NOW(): move it back with them disabled for this session.
  await db.query(`SET session_replication_role = replica`);
  await db.query(`UPDATE conversations SET updated_at = NOW() - INTERVAL '100 days' WHERE id = $1`, [inactive]);
  await db.query(`UPDATE conversations SET updated_at = NOW() - INTERVAL '10 days' WHERE id = $1`, [active]);
  await db.query(`SET session_replication_role = DEFAULT`);

  const jobs = startMaintenance(t, n, { archiveInactiveDays: 30 });
  const [jobId] = await jobs.schedule(Date.now(), ['archival']);
  t.equal(jobId, periodJobId('archival', Date.now()), 'the day’s job');
  t.equal(await finished(jobs, jobId ?? ''), 'completed', 'the run completed');
  t.match((await jobs.queue.getJob(jobId ?? ''))?.returnvalue, { candidates: 1, archived: 1, failed: 0 }, 'one candidate, archived');

  const archived = await db.query<{ id: string; conversation_data: { type: string; members: { user_id: string }[] } }>(`SELECT id, conversation_data FROM archived_conversations`);
  t.same(archived.rows.map((r) => r.id), [inactive], 'only the inactive conversation is in archived_conversations');
  t.equal(archived.rows[0]?.conversation_data.type, 'direct', 'with its metadata');
  t.ok(archived.rows[0]?.conversation_data.members.some((m) => m.user_id === alice), 'and its members');
  t.equal((await a.get(inactive)).conversation.is_active, false, 'its owner answers from the reloaded row: inactive');
  t.equal((await a.get(active)).conversation.is_active, true, 'the other stays active');
  const { messages } = await a.history(inactive);
  t.equal(Buffer.from(messages[0]?.content ?? []).toString(), 'long ago', 'nothing is deleted by archival');
});
