/**
 * Waits until the nodes of a run form one cluster: the registry lists exactly
 * them, and every node sees all of them live, serves its own slots and (when it
 * says which) routes by the registry's ring. /readyz alone is not enough: a
 * node is ready once it serves its own slots, possibly before it has read the
 * others' entries, and a client connected to it then would have its requests
 * for their conversations answered by a different ring.
 */
import { sleep } from '../util/time.ts';
import { readNodeView, type NodeView } from './node-view.ts';
import { readRegistryRing, type RegistryRing } from './registry-ring.ts';
import type { TargetNode } from './target.ts';

/**
 * WHISPR_NODE_GRACE_MS the nodes run with: they inherit the bench's environment,
 * else the node's default (packages/node/src/config.ts, 3000).
 */
export const nodeGraceMs = (): number => Number(process.env['WHISPR_NODE_GRACE_MS'] || 3000);

export interface ClusterState {
  registry: RegistryRing;
  views: NodeView[];
}

export async function waitForCluster(nodes: readonly TargetNode[], redis: { url: string; prefix: string }, timeoutMs = 30_000): Promise<ClusterState> {
  const deadline = Date.now() + timeoutMs;
  let problem = 'not checked yet';
  while (Date.now() < deadline) {
    const [registry, views] = await Promise.all([readRegistryRing(redis.url, redis.prefix, nodeGraceMs()), Promise.all(nodes.map((n) => readNodeView(n.httpUrl)))]);
    problem = clusterProblem(nodes, registry, views) ?? '';
    if (problem === '') return { registry, views: views as NodeView[] };
    await sleep(200);
  }
  throw new Error(`the ${nodes.length} nodes did not form one cluster within ${timeoutMs} ms: ${problem}`);
}

/** What keeps these nodes from being one cluster, or null when they are. */
export function clusterProblem(nodes: readonly TargetNode[], registry: RegistryRing, views: ReadonlyArray<NodeView | null>): string | null {
  const expected = nodes.map((n) => n.nodeId).filter((id): id is string => id !== null).sort();
  const listed = [...registry.slotsOfNode.keys()].sort();
  if (expected.length === nodes.length && expected.join(',') !== listed.join(',')) return `the registry lists [${listed.join(', ')}], expected [${expected.join(', ')}]`;
  const ringSlots = registry.ring.slots.join(',');
  for (const [i, view] of views.entries()) {
    const name = nodes[i]?.nodeId ?? nodes[i]?.httpUrl ?? `node ${i + 1}`;
    if (view === null) return `${name} reports no cluster view (neither GET /cluster nor whispr_cluster_* on /metrics)`;
    if (!view.serving) return `${name} does not serve its slots yet`;
    if (view.liveNodes !== nodes.length) return `${name} sees ${view.liveNodes} live nodes of ${nodes.length}`;
    if (view.ringSlots !== null && [...view.ringSlots].sort().join(',') !== ringSlots) return `${name} routes by the ring [${view.ringSlots.join(', ')}], the registry's is [${registry.ring.slots.join(', ')}]`;
  }
  return null;
}
