// kill -9 of the node holding a user's only connection (PROTOCOL.md §5 "Presence"):
// no disconnect is ever recorded, yet the watcher on the surviving node hears the
// user go offline within the node grace (plus the time for the ring to move on a
// busy machine), because the membership drops the dead node and presence fields of
// a dead node's incarnation no longer count.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startProcessCluster } from './helpers/process-cluster.ts';

/** Slack on top of the grace for the ring to move on a busy 2-core machine. */
const SLACK_MS = 6000;

t.test('a killed node’s users go offline for watchers on other nodes within the grace', async (t) => {
  const c = await startProcessCluster(t, { nodes: 2 });
  const [watcher, bob] = [randomUUID(), randomUUID()];
  const w = await c.connect(watcher, 0);
  t.teardown(() => w.close().catch(() => undefined));
  await w.watchPresence([bob]);
  const online = w.waitFor('presence', (e) => e.user_id === bob && e.online);
  const b = await c.connect(bob, 1);
  b.on('error', () => undefined /* its node is about to die */);
  await online;
  t.pass('online while bob’s node lives');

  const victim = c.nodes[1];
  if (!victim) throw new Error('no node 2');
  const offline = w.waitFor('presence', (e) => e.user_id === bob && !e.online, c.graceMs + SLACK_MS + 5000);
  const killedAt = Date.now();
  victim.signal('SIGKILL');
  const ev = await offline;
  const after = Date.now() - killedAt;
  t.comment(`offline ${after} ms after kill -9 (grace ${c.graceMs} ms)`);
  t.ok(after < c.graceMs + SLACK_MS, `offline within the grace + ${SLACK_MS / 1000} s (${after} ms)`);
  t.ok(ev.last_activity !== null, 'with the last activity the dead node recorded');
  t.same((await w.watchPresence([bob])).presence[0]?.online, false, 'a fresh watch reads offline too');
});
