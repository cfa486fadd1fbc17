/**
 * A shard whose actors run in the node's main thread (WHISPR_WORKERS=0).
 *
 * Same task and outbox formats as a thread shard, without the hand-overs: a
 * frame's task runs on the next turn of the main thread's loop and its replies
 * come back as an outbox message emitted on this thread. Actor work then shares
 * the thread with the sockets, so this suits hosts with one or two cores that
 * PostgreSQL shares, where a thread wake-up each way costs more than it buys.
 */
import type { Logger } from 'pino';
import type { ShardTask, ShardWorkerData } from './shard-contract.ts';
import { ShardBase } from './shard-base.ts';
import { ShardHost } from './shard-host.ts';

export interface InlineShardOptions {
  workerData: ShardWorkerData;
  logger: Logger;
}

export class InlineShard extends ShardBase {
  private readonly host: ShardHost;
  private readonly running = new Set<Promise<unknown>>();

  constructor(options: InlineShardOptions) {
    super(options.workerData.slot, options.logger);
    this.host = new ShardHost(options.workerData, {
      outbox: (message) => this.emit('outbox', message),
      stats: (message) => this.emit('stats', message),
    });
  }

  protected runTask(task: ShardTask): Promise<unknown> {
    // The dispatcher answers every frame itself; a rejection here is a bug, reported like a dead thread.
    const run = this.host.run(task);
    this.running.add(run);
    const forget = (): void => {
      this.running.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.host.close();
  }
}
