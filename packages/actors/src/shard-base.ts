/**
 * What both shard implementations share: frames staged per turn into one task
 * (task-staging.ts), refused once the shard is closing, and a failed task
 * reported as `failed` so the gateway answers its frames with `unavailable`.
 * Subclasses say where a task runs.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Shard, ShardEvents } from './shard.ts';
import type { RawFrame, ShardTask } from './shard-contract.ts';
import { TaskStaging } from './task-staging.ts';

export abstract class ShardBase extends EventEmitter<ShardEvents> implements Shard {
  protected closed = false;
  protected readonly logger: Logger;
  private readonly staging = new TaskStaging((task, serials) => {
    if (this.closed) this.emit('failed', serials, new Error('shard is closed'));
    else this.report(this.runTask(task), serials);
  });

  constructor(
    readonly slot: string,
    logger: Logger,
  ) {
    super();
    this.logger = logger.child({ slot });
  }

  pushRaw(frame: RawFrame, bytes: Uint8Array): void {
    this.staging.pushRaw(frame, bytes);
  }

  ready(): Promise<void> {
    return this.runTask({ buf: new ArrayBuffer(0), raw: [], warm: true }).then(() => undefined);
  }

  /** Runs one task; resolves once every frame in it is answered. */
  protected abstract runTask(task: ShardTask): Promise<unknown>;

  abstract close(): Promise<void>;

  private report(run: Promise<unknown>, serials: number[]): void {
    run.then(
      () => undefined,
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error({ err: error, frames: serials.length }, 'shard task failed');
        this.emit('failed', serials, error);
      },
    );
  }
}
