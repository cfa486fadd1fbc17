/**
 * The node's own view of its shard writers, from its Prometheus /metrics: how many
 * group-commit batches, how many messages, how long the commits took. Read at the
 * edges of the measured phase, they say whether the writers were saturated (commit
 * time close to the wall time: PostgreSQL-bound) or waiting for work (the limit is
 * before them), and how big the batches were. The same samples carry the cluster's
 * traffic and the main thread's pauses (node-traffic.ts).
 */
export type MetricSample = Map<string, number>;

export interface WriterUse {
  batches: number;
  messages: number;
  avg_batch: number | null;
  avg_commit_ms: number | null;
  /** Commit time over wall time, per writer (1.0 = a writer always had a transaction in flight). */
  writer_busy: number | null;
  failed_batches: number;
}

const WATCHED = [
  'whispr_shard_batches', 'whispr_shard_messages_committed', 'whispr_shard_commit_seconds', 'whispr_shard_failed_batches', 'whispr_shard_writers',
  // The cluster's traffic (node-traffic.ts).
  'whispr_requests_forwarded_total', 'whispr_requests_forwarded_in_total', 'whispr_events_forwarded_total', 'whispr_events_not_forwarded_total',
  'whispr_forward_timeouts_total', 'whispr_unavailable_total', 'whispr_bus_sent_messages', 'whispr_bus_sent_bytes', 'whispr_bus_received_messages',
  'whispr_bus_gaps',
  // The main thread's pauses: prom-client's event-loop delay since the previous scrape, and garbage collection.
  'whispr_node_nodejs_eventloop_lag_p99_seconds', 'whispr_node_nodejs_eventloop_lag_max_seconds', 'whispr_node_nodejs_gc_duration_seconds_sum',
];

/** Sums each watched metric over its label sets; null when the node has no such endpoint. */
export async function readNodeMetrics(httpUrl: string): Promise<MetricSample | null> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    return parseSums(await res.text());
  } catch {
    return null;
  }
}

export function parseSums(text: string): MetricSample {
  const sums: MetricSample = new Map();
  const slots = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})?\s+(\S+)/i.exec(line);
    if (match === null) continue;
    const [, name = '', labels = '', value = ''] = match;
    if (!WATCHED.includes(name)) continue;
    sums.set(name, (sums.get(name) ?? 0) + Number(value));
    if (name === 'whispr_shard_batches') slots.add(labels);
  }
  sums.set('slots', slots.size);
  return sums;
}

/** The nodes' samples summed metric by metric (shard writers over a cluster); null when any node did not answer. */
export function sumMetrics(samples: ReadonlyArray<MetricSample | null>): MetricSample | null {
  if (samples.length === 0 || samples.includes(null)) return null;
  const sum: MetricSample = new Map();
  for (const sample of samples as MetricSample[]) for (const [name, value] of sample) sum.set(name, (sum.get(name) ?? 0) + value);
  return sum;
}

export function writerUse(before: MetricSample | null, after: MetricSample | null, seconds: number): WriterUse | null {
  if (before === null || after === null) return null;
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const batches = delta('whispr_shard_batches');
  const messages = delta('whispr_shard_messages_committed');
  const commitS = delta('whispr_shard_commit_seconds');
  // Commit time is summed over each shard's writers; nodes older than that metric had one per shard.
  const writers = after.get('whispr_shard_writers') ?? after.get('slots') ?? 0;
  return {
    batches,
    messages,
    avg_batch: batches > 0 ? Math.round((messages / batches) * 10) / 10 : null,
    avg_commit_ms: batches > 0 ? Math.round((commitS / batches) * 1000 * 100) / 100 : null,
    writer_busy: writers > 0 && seconds > 0 ? Math.round((commitS / (seconds * writers)) * 1000) / 1000 : null,
    failed_batches: delta('whispr_shard_failed_batches'),
  };
}
