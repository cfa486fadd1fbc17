/**
 * A shard whose actors run in the node's main thread (WHISPR_WORKERS=0).
 *
 * Same task and outbox formats as a thread shard, without the hand-overs: a
 * frame's task runs on the next turn of the main thread's loop and its replies
 * come back as an outbox message emitted on this thread. Actor work then shares
 * the thread with the sockets, so this suits hosts with one or two cores that
 * PostgreSQL shares, where a thread wake-up each way costs more than it buys.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { FrameMeta, Shard, ShardEvents } from './shard.ts';
import type { DecodedFrame, ShardTask, ShardWorkerData } from './shard-contract.ts';
import { ShardHost } from './shard-host.ts';
import { TaskStaging } from './task-staging.ts';

export interface InlineShardOptions {
  workerData: ShardWorkerData;
  logger: Logger;
}

export class InlineShard extends EventEmitter<ShardEvents> implements Shard {
  readonly slot: string;
  private readonly logger: Logger;
  private readonly host: ShardHost;
  private readonly staging = new TaskStaging((task, serials) => this.submit(task, serials));
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(options: InlineShardOptions) {
    super();
    this.slot = options.workerData.slot;
    this.logger = options.logger.child({ slot: this.slot });
    this.host = new ShardHost(options.workerData, {
      outbox: (message) => this.emit('outbox', message),
      stats: (message) => this.emit('stats', message),
    });
  }

  pushRaw(meta: FrameMeta, bytes: Uint8Array): void {
    this.staging.pushRaw(meta, bytes);
  }

  pushDecoded(frame: DecodedFrame): void {
    this.staging.pushDecoded(frame);
  }

  private submit(task: ShardTask, serials: number[]): void {
    if (this.closed) {
      this.emit('failed', serials, new Error('shard is closed'));
      return;
    }
    const run = this.host.run(task).then(
      () => undefined,
      (err: unknown) => {
        // The dispatcher answers every frame itself; a rejection here is a bug, reported like a dead thread.
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error({ err: error, frames: serials.length }, 'shard task failed');
        this.emit('failed', serials, error);
      },
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running);
    await this.host.close();
  }
}
