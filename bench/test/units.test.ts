import t from 'tap';
import { parseOptions } from '../src/cli/options.ts';
import { contentMd5, makeContent } from '../src/load/content.ts';
import { LatencyHistogram } from '../src/metrics/latency-histogram.ts';
import { Timeline } from '../src/metrics/timeline.ts';
import { insertedBetween } from '../src/metrics/pg-table-stats.ts';
import { parseSums, writerUse } from '../src/metrics/node-metrics.ts';
import { SeqSet } from '../src/scenarios/seq-set.ts';
import { countGaps } from '../src/verify/verify-messages.ts';
import { slope } from '../src/metrics/slope.ts';

t.test('options: defaults, open loop, errors', async (t) => {
  const closed = parseOptions(['direct']);
  t.equal(closed.scenario, 'direct');
  t.equal(closed.rate, null, 'closed loop unless --rate');
  t.equal(closed.pairs, 50);
  t.equal(closed.window, 8);
  const open = parseOptions(['direct', '--rate', '2000', '--duration', '5', '--json']);
  t.equal(open.rate, 2000);
  t.equal(open.durationS, 5);
  t.equal(open.json, true);
  t.equal(parseOptions(['idle']).connections, 1000);
  t.equal(parseOptions(['history']).messages, 2000);
  t.throws(() => parseOptions([]), { name: 'UsageError' });
  t.throws(() => parseOptions(['nope']), { name: 'UsageError' });
  t.throws(() => parseOptions(['direct', '--pairs', '0']), { name: 'UsageError' });
  t.throws(() => parseOptions(['direct', '--window', '1.5']), { name: 'UsageError' });
  t.throws(() => parseOptions(['direct', '--bogus']));
});

t.test('gap counting', async (t) => {
  t.equal(countGaps([]), 0);
  t.equal(countGaps([1, 2, 3]), 0);
  t.equal(countGaps([3, 1, 2]), 0, 'order does not matter');
  t.equal(countGaps([2, 3]), 1, 'seq 1 missing');
  t.equal(countGaps([1, 4]), 2);
  t.equal(countGaps([1, 2, 2, 3]), 1, 'a repeated seq counts');
});

t.test('seq sets track the gap-free prefix', async (t) => {
  const set = new SeqSet();
  t.equal(set.add(2), true);
  t.equal(set.contiguousEnd(), 0);
  t.equal(set.add(1), true);
  t.equal(set.add(1), false, 'repeat');
  t.equal(set.contiguousEnd(), 2);
  t.equal(set.hasAll(2), true);
  t.equal(set.hasAll(3), false);
  t.equal(set.missing(5), 3);
});

t.test('latency histogram percentiles', async (t) => {
  const h = new LatencyHistogram();
  t.equal(h.at(99), 0, 'empty');
  for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
  t.equal(h.count, 1000);
  t.ok(Math.abs(h.at(50) - 50) < 0.1, `p50 ${h.at(50)}`);
  t.ok(Math.abs(h.at(99) - 99) < 0.1, `p99 ${h.at(99)}`);
  const summary = h.summary();
  t.ok(Math.abs((summary.percentiles['100'] ?? 0) - summary.max_ms) <= summary.max_ms * 0.001, 'p100 is the max within HDR precision');
  const cdf = summary.cdf;
  t.equal(cdf.at(-1)?.[1], 1);
  t.ok(cdf.every(([ms], i) => i === 0 || ms >= (cdf[i - 1]?.[0] ?? 0)), 'CDF is monotonic');
});

t.test('message bodies are reproducible and distinct', async (t) => {
  t.equal(makeContent(3, 7, 200).length, 200);
  t.equal(contentMd5(makeContent(3, 7, 200)), contentMd5(makeContent(3, 7, 200)));
  t.not(contentMd5(makeContent(3, 7, 200)), contentMd5(makeContent(3, 8, 200)));
  t.not(contentMd5(makeContent(3, 7, 200)), contentMd5(makeContent(4, 7, 200)));
});

t.test('timeline buckets by second of the measured phase', async (t) => {
  const timeline = new Timeline();
  timeline.start(1000);
  timeline.addAck(500); // before the measured phase: ignored
  timeline.addAck(1000);
  timeline.addAck(1999);
  timeline.addAck(2500, 3);
  timeline.addDelivery(2100);
  const points = timeline.points(3);
  t.same(points.map((p) => p.acked), [2, 3, 0]);
  t.same(points.map((p) => p.delivered), [0, 1, 0]);
});

t.test('pg_stat deltas', async (t) => {
  t.same(insertedBetween({ messages: 10, other: 5 }, { messages: 25, other: 5, fresh: 2 }), { messages: 15, fresh: 2 });
});

t.test('node metrics: shard writer use from /metrics text', async (t) => {
  const before = parseSums('# HELP x\nwhispr_shard_batches{slot="a"} 10\nwhispr_shard_batches{slot="b"} 10\nwhispr_shard_messages_committed{slot="a"} 100\nwhispr_shard_commit_seconds{slot="a"} 1\nother 5\n');
  const after = parseSums('whispr_shard_batches{slot="a"} 30\nwhispr_shard_batches{slot="b"} 30\nwhispr_shard_messages_committed{slot="a"} 4100\nwhispr_shard_commit_seconds{slot="a"} 3\nwhispr_shard_commit_seconds{slot="b"} 2\n');
  const use = writerUse(before, after, 4);
  t.equal(use?.batches, 40);
  t.equal(use?.messages, 4000);
  t.equal(use?.avg_batch, 100);
  t.equal(use?.avg_commit_ms, 100);
  t.equal(use?.writer_busy, 0.5, '4 commit-seconds over 2 writers × 4 s');
  t.equal(writerUse(null, after, 4), null);
  const withWriters = parseSums('whispr_shard_batches{slot="a"} 30\nwhispr_shard_batches{slot="b"} 30\nwhispr_shard_messages_committed{slot="a"} 4100\nwhispr_shard_commit_seconds{slot="a"} 3\nwhispr_shard_commit_seconds{slot="b"} 2\nwhispr_shard_writers{slot="a"} 2\nwhispr_shard_writers{slot="b"} 2\n');
  t.equal(writerUse(before, withWriters, 4)?.writer_busy, 0.25, '4 commit-seconds over 2 shards × 2 writers × 4 s');
});

t.test('least-squares slope for memory per connection', async (t) => {
  t.equal(slope([[0, 100], [10, 200], [20, 300]]), 10);
  t.equal(slope([[5, 1]]), null);
  t.equal(slope([[5, 1], [5, 2]]), null);
});
