/**
 * The piscina entry of a shard worker thread. Module state (the context, the
 * actors) lives as long as the thread: piscina runs every task of this shard's
 * pool in this one thread, which is what pins each conversation's actor here.
 */
import { workerData } from 'node:worker_threads';
import { parentPort } from 'node:worker_threads';
import { ActorRegistry } from './actor-registry.ts';
import { Dispatcher } from './dispatch.ts';
import type { ShardTask, ShardWorkerData, StatsMessage } from './shard-contract.ts';
import { createWorkerContext } from './worker-context.ts';

const data = workerData as ShardWorkerData;
const ctx = createWorkerContext(data);
const actors = new ActorRegistry(ctx);
const dispatcher = new Dispatcher(ctx, actors);

const STATS_INTERVAL_MS = 1000;
setInterval(() => {
  const s = ctx.writer.stats;
  const stats: StatsMessage = {
    type: 'stats', slot: data.slot, actors: actors.size, batches: s.batches, messages: s.messages,
    deliveryStatuses: s.deliveryStatuses, receipts: s.receipts, failedBatches: s.failedBatches,
    commitMsTotal: s.commitMsTotal, writerQueued: ctx.writer.queued,
  };
  parentPort?.postMessage(stats);
}, STATS_INTERVAL_MS).unref();

export default async function runShardTask(task: ShardTask): Promise<number> {
  const work: Promise<void>[] = [];
  const buf = task.buf;
  if (buf) for (const frame of task.raw) work.push(dispatcher.raw(buf, frame));
  for (const frame of task.decoded) work.push(dispatcher.decoded(frame));
  await Promise.all(work);
  return work.length;
}
