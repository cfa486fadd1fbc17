import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

t.test('healthz, readyz and metrics answer', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const health = await fetch(`${n.node.httpUrl}/healthz`);
  t.equal(health.status, 200);
  const ready = await fetch(`${n.node.httpUrl}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { ready: true, checks: { postgres: true, redis: true, ring: true } });
  const metrics = await fetch(`${n.node.httpUrl}/metrics`);
  t.equal(metrics.status, 200);
  const text = await metrics.text();
  t.match(text, /whispr_connections \d+/);
  t.match(text, /whispr_node_process_cpu_user_seconds_total/);
  t.equal((await fetch(`${n.node.httpUrl}/nope`)).status, 404);
});
