/**
 * A shard in a worker thread of its own: a piscina pool of exactly one thread.
 *
 * One thread per pool is what gives actors a stable home: every task of the
 * pool runs in the same thread, so a conversation routed to this shard always
 * meets the same in-memory actor. (One pool of N threads would hand tasks to
 * whichever thread is least busy.) If the thread dies, piscina rejects its
 * unfinished tasks and starts a replacement (minThreads 1); the gateway answers
 * the frames of the rejected tasks with `unavailable`, and the new thread
 * reloads actors from PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { isWorkerMessage, type ShardTask, type ShardWorkerData } from './shard-contract.ts';
import { ShardBase } from './shard-base.ts';

const WORKER_FILE = fileURLToPath(new URL('./shard-worker.ts', import.meta.url));

export interface ThreadShardOptions {
  workerData: ShardWorkerData;
  logger: Logger;
  /** Tasks that may wait for the thread before `submit` pushes back. */
  maxQueue?: number;
}

export class ThreadShard extends ShardBase {
  private readonly pool: Piscina<ShardTask, number>;

  constructor(options: ThreadShardOptions) {
    super(options.workerData.slot, options.logger);
    const maxQueue = options.maxQueue ?? 10_000;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new TypeError(`ThreadShard option maxQueue must be a positive integer, got ${maxQueue}`);
    this.pool = new Piscina<ShardTask, number>({
      filename: WORKER_FILE,
      name: 'default',
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // Tasks are async and mostly wait on PostgreSQL; many run at once in the one thread.
      concurrentTasksPerWorker: 10_000,
      maxQueue,
      // The node's own profiling flags (node --cpu-prof ...) reach the shard threads too.
      execArgv: ['--import', 'tsx', ...process.execArgv.filter((a) => a.startsWith('--cpu-prof'))],
      // Piscina's default parks an idle worker in Atomics.wait, which freezes its
      // event loop between tasks; an actor host must keep running (commits, Redis,
      // timers, the outbox flush) while no task is in progress.
      atomics: 'disabled',
      workerData: options.workerData,
    });
    this.pool.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'outbox') this.emit('outbox', message);
      else this.emit('stats', message);
    });
    this.pool.on('error', (err: Error) => this.logger.error({ err }, 'shard worker error'));
  }

  protected runTask(task: ShardTask): Promise<number> {
    return this.pool.run(task, { transferList: [task.buf] });
  }

  /** Terminates the current thread (piscina starts a new one). For failure tests and operators. */
  async killThread(): Promise<void> {
    const thread = this.pool.threads[0];
    if (thread) await thread.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close({ force: false });
  }
}
