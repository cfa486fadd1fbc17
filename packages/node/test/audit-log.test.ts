// The audit log (seed §5.3): creation, membership changes, metadata and settings
// changes are recorded with who, what and when, committed with the change; a
// refused change records nothing.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';
import { codeOf, dbOf } from './helpers/members.ts';

t.test('audit rows for every conversation change', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const db = await dbOf(t, n.databaseUrl);
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const started = Date.now() - 1000;
  const direct = (await a.direct(bob)).conversation.id;
  const group = (await a.group([bob], { name: 'g' })).conversation.id;
  await a.addMembers(group, [carol]);
  await a.removeMembers(group, [carol]);
  await a.updateConversation(group, { name: 'h' });
  await a.setSettings(group, { notifications: false });
  await b.setMemberSettings(group, { muted_until: 1 });
  await a.leave(group);
  t.equal(await codeOf(b.removeMembers(direct, [alice])), 'forbidden');

  const rows = await db.query<{ conversation_id: string; actor_id: string; action: string; details: Record<string, unknown>; at: number }>(
    `SELECT conversation_id, actor_id, action, details, extract(epoch from occurred_at) * 1000 AS at FROM audit_log ORDER BY occurred_at, action`,
  );
  t.same(
    rows.rows.map((r) => [r.conversation_id, r.actor_id, r.action]),
    [
      [direct, alice, 'conversation.created'],
      [group, alice, 'conversation.created'],
      [group, alice, 'members.added'],
      [group, alice, 'members.removed'],
      [group, alice, 'conversation.updated'],
      [group, alice, 'settings.changed'],
      [group, alice, 'member.left'],
    ],
    'who and what, in order; private member settings and refusals are not recorded',
  );
  t.match(rows.rows[2]?.details, { user_ids: [carol], seq: 1 });
  t.match(rows.rows[4]?.details, { metadata: { name: 'h' } });
  t.match(rows.rows[6]?.details, { user_ids: [alice], promoted: [bob] });
  for (const r of rows.rows) t.ok(Number(r.at) >= started && Number(r.at) <= Date.now() + 1000, 'when');
});
