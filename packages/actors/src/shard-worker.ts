/**
 * The piscina entry of a shard worker thread. The host lives as long as the
 * thread: piscina runs every task of this shard's pool in this one thread, which
 * is what pins each conversation's actor here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ShardTask, ShardWorkerData } from './shard-contract.ts';
import { ShardHost } from './shard-host.ts';

if (!parentPort) throw new Error('shard-worker.ts runs only as a worker thread');
const port = parentPort;

const host = new ShardHost(workerData as ShardWorkerData, {
  outbox: (message, transfer) => port.postMessage(message, transfer),
  stats: (message) => port.postMessage(message),
});

export default function runShardTask(task: ShardTask): Promise<number> {
  return host.run(task);
}
