/**
 * The nodes' own word that a --cross run crossed: their forwarding counters
 * (whispr_requests_forwarded_total, whispr_events_forwarded_total) summed over
 * the nodes, read once every conversation exists and again after the drain, when
 * every send has been answered. Every send of the load must then have been
 * forwarded exactly once: share 1.
 */
import { readNodeMetrics, sumMetrics } from '../metrics/node-metrics.ts';
import type { Target } from '../target/target.ts';

export interface ForwardCounts {
  requests: number;
  events: number;
}

export async function readForwardCounts(target: Target): Promise<ForwardCounts | null> {
  const sum = sumMetrics(await Promise.all(target.nodes.map((n) => readNodeMetrics(n.httpUrl))));
  if (sum === null) return null;
  return { requests: sum.get('whispr_requests_forwarded_total') ?? 0, events: sum.get('whispr_events_forwarded_total') ?? 0 };
}

/** The summary's evidence fields: requests forwarded per send (1 when every send crossed), events forwarded per ack. */
export function crossFigures(before: ForwardCounts | null, after: ForwardCounts | null, sends: number, acked: number): Record<string, number | null> {
  if (before === null || after === null) return { forwarded_requests: null, forwarded_share: null, forwarded_events_per_ack: null };
  const requests = after.requests - before.requests;
  const events = after.events - before.events;
  return {
    forwarded_requests: requests,
    forwarded_share: sends === 0 ? null : Math.round((requests / sends) * 10_000) / 10_000,
    forwarded_events_per_ack: acked === 0 ? null : Math.round((events / acked) * 1000) / 1000,
  };
}
