// A cancelled scheduled message never arrives; only its sender may cancel it;
// a cancel racing the due time is decided by the conversation's line: either it
// is cancelled and never arrives, or it was sent (once) and the cancel says so.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { WhisprRequestError } from '@whispr/client';
import { startTestNode } from './helpers/test-node.ts';
import { collect, messagesWith, rowOf, sleep, until } from './helpers/scheduled.ts';

const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: unknown) => (err instanceof WhisprRequestError ? err.code : `other: ${String(err)}`));

t.test('cancelled never arrives; another member cannot cancel it; a sent one cannot be cancelled', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.group([bob, carol]);
  const atBob = collect(b, conversation.id);
  const doomed = await a.scheduleMessage(conversation.id, Date.now() + 1500, { content: 'never' });
  const kept = await a.scheduleMessage(conversation.id, Date.now() + 1500, { content: 'kept' });
  t.equal(await codeOf(b.cancelScheduled(conversation.id, doomed.scheduled.id)), 'forbidden', 'another member: forbidden');
  t.equal(await codeOf(a.cancelScheduled(conversation.id, randomUUID())), 'not_found', 'no such scheduled message');
  const { conversation: other } = await a.direct(bob);
  t.equal(await codeOf(a.cancelScheduled(other.id, doomed.scheduled.id)), 'not_found', 'a scheduled message of another conversation');
  t.same(await a.cancelScheduled(conversation.id, doomed.scheduled.id), {}, 'cancelled by its sender');
  t.equal(await codeOf(a.cancelScheduled(conversation.id, doomed.scheduled.id)), 'not_found', 'twice: not pending any more');
  t.same((await a.listScheduled(conversation.id)).scheduled.map((s) => s.id), [kept.scheduled.id], 'only the other one is pending');
  await until('the kept one arrived', () => atBob.length === 1);
  await sleep(1500);
  t.same(atBob.map((m) => Buffer.from(m.content).toString()), ['kept'], 'the cancelled one never arrived');
  t.equal((await rowOf(n.databaseUrl, doomed.scheduled.id))?.is_cancelled, true, 'its row says cancelled');
  t.equal(await codeOf(a.cancelScheduled(conversation.id, kept.scheduled.id)), 'not_found', 'a sent one cannot be cancelled');
});

t.test('cancels racing the due time: each message either arrives once or is cancelled, never both', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const [alice, bob] = [randomUUID(), randomUUID()];
  const a = await n.connect(alice);
  const b = await n.connect(bob);
  const { conversation } = await a.direct(bob);
  const atBob = collect(b, conversation.id);
  const due = Date.now() + 2000;
  const ids = [];
  for (let i = 0; i < 8; i++) ids.push((await a.scheduleMessage(conversation.id, due, { content: `race ${i}` })).scheduled.id);
  await sleep(Math.max(0, due - Date.now() - 40));
  const outcomes = await Promise.all(ids.map((id, i) => sleep(i * 12).then(() => codeOf(a.cancelScheduled(conversation.id, id)))));
  await sleep(2500);
  const arrived = new Set(atBob.map((m) => Buffer.from(m.content).toString()));
  ids.forEach((_, i) => {
    const cancelled = outcomes[i] === 'ok';
    t.ok(cancelled !== arrived.has(`race ${i}`), `message ${i}: ${cancelled ? 'cancelled, never arrived' : `${outcomes[i]}, arrived`}`);
  });
  t.equal(atBob.length, arrived.size, 'none arrived twice');
  t.equal(await messagesWith(n.databaseUrl, conversation.id), arrived.size, 'stored as many as arrived');
});
