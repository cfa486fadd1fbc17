/**
 * Each node's own account of the measured phase, from its /metrics read at the
 * phase's edges: what it forwarded to other nodes and received from them
 * (requests, events, bus payloads), what it answered `unavailable`, and how long
 * its main thread paused (garbage collection; prom-client's event-loop delay,
 * which it resets at every scrape, so the end sample covers the phase).
 */
import type { MetricSample } from './node-metrics.ts';

export interface NodeTraffic {
  node_id: string | null;
  requests_forwarded: number;
  requests_forwarded_in: number;
  events_forwarded: number;
  events_not_forwarded: number;
  forward_timeouts: number;
  unavailable: number;
  bus_sent_messages: number;
  bus_sent_bytes: number;
  bus_received_messages: number;
  bus_gaps: number;
  gc_s: number;
  eventloop_lag_p99_ms: number | null;
  eventloop_lag_max_ms: number | null;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function nodeTraffic(nodeId: string | null, before: MetricSample | null, after: MetricSample | null): NodeTraffic | null {
  if (before === null || after === null) return null;
  const delta = (name: string): number => round((after.get(name) ?? 0) - (before.get(name) ?? 0), 3);
  const ms = (name: string): number | null => (after.has(name) ? round((after.get(name) ?? 0) * 1000, 2) : null);
  return {
    node_id: nodeId,
    requests_forwarded: delta('whispr_requests_forwarded_total'),
    requests_forwarded_in: delta('whispr_requests_forwarded_in_total'),
    events_forwarded: delta('whispr_events_forwarded_total'),
    events_not_forwarded: delta('whispr_events_not_forwarded_total'),
    forward_timeouts: delta('whispr_forward_timeouts_total'),
    unavailable: delta('whispr_unavailable_total'),
    bus_sent_messages: delta('whispr_bus_sent_messages'),
    bus_sent_bytes: delta('whispr_bus_sent_bytes'),
    bus_received_messages: delta('whispr_bus_received_messages'),
    bus_gaps: delta('whispr_bus_gaps'),
    gc_s: delta('whispr_node_nodejs_gc_duration_seconds_sum'),
    eventloop_lag_p99_ms: ms('whispr_node_nodejs_eventloop_lag_p99_seconds'),
    eventloop_lag_max_ms: ms('whispr_node_nodejs_eventloop_lag_max_seconds'),
  };
}
