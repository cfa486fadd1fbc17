/**
 * What one node concluded about its cluster: how many live nodes it sees,
 * whether it serves its slots, its ring generation and, when it has the
 * `GET /cluster` endpoint, the exact slots of the ring it routes by. Nodes
 * without that endpoint (main has only /metrics today) answer from their
 * `whispr_cluster_*` gauges, which carry no slot list.
 */
export interface NodeView {
  /** The node's own id, when the endpoint says it. */
  nodeId: string | null;
  serving: boolean;
  liveNodes: number;
  generation: number;
  /** The ring's slots as this node sees them; null when only /metrics answered. */
  ringSlots: string[] | null;
  source: 'cluster' | 'metrics';
}

const TIMEOUT_MS = 3000;

/** The node's view, from GET /cluster when it has one, else from /metrics; null when neither answers. */
export async function readNodeView(httpUrl: string): Promise<NodeView | null> {
  return (await fromClusterEndpoint(httpUrl)) ?? (await fromMetrics(httpUrl));
}

async function fromClusterEndpoint(httpUrl: string): Promise<NodeView | null> {
  try {
    const res = await fetch(`${httpUrl}/cluster`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) return null;
    return parseClusterReport(await res.json());
  } catch {
    return null;
  }
}

/** A GET /cluster body (cluster/src/node-report.ts on the ops branch), checked field by field. */
export function parseClusterReport(body: unknown): NodeView | null {
  if (body === null || typeof body !== 'object') return null;
  const report = body as Record<string, unknown>;
  const ring = report['ring'] as Record<string, unknown> | undefined;
  const slots = ring?.['slots'];
  const nodes = report['nodes'];
  if (typeof report['serving'] !== 'boolean' || !Array.isArray(slots) || !slots.every((s) => typeof s === 'string') || !Array.isArray(nodes)) return null;
  return {
    nodeId: typeof report['nodeId'] === 'string' ? report['nodeId'] : null,
    serving: report['serving'],
    liveNodes: nodes.length,
    generation: typeof ring?.['generation'] === 'number' ? ring['generation'] : 0,
    ringSlots: slots as string[],
    source: 'cluster',
  };
}

async function fromMetrics(httpUrl: string): Promise<NodeView | null> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) return null;
    return parseClusterGauges(await res.text());
  } catch {
    return null;
  }
}

/** The whispr_cluster_* gauges of a /metrics text; null when the node has none (not a cluster-aware node). */
export function parseClusterGauges(text: string): NodeView | null {
  const gauge = (name: string): number | null => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(text);
    return match === null ? null : Number(match[1]);
  };
  const nodes = gauge('whispr_cluster_nodes');
  const serving = gauge('whispr_cluster_serving');
  if (nodes === null || serving === null) return null;
  return { nodeId: null, serving: serving === 1, liveNodes: nodes, generation: gauge('whispr_cluster_ring_generation') ?? 0, ringSlots: null, source: 'metrics' };
}
