/**
 * Everything that runs a shard's actors, wherever it runs: the context (pools,
 * writer, outbox, fan-out), the actor registry, the dispatcher and the periodic
 * stats. A worker thread builds one at start (shard-worker.ts); an inline shard
 * builds one in the main thread (shard-inline.ts).
 */
import { ActorRegistry } from './actor-registry.ts';
import { Dispatcher } from './dispatch.ts';
import type { OutboxMessage, ShardTask, ShardWorkerData, StatsMessage } from './shard-contract.ts';
import { createWorkerContext, type WorkerContext } from './worker-context.ts';

const STATS_INTERVAL_MS = 1000;

/** Where the host's output goes: a worker's parentPort, or the inline shard's listeners. */
export interface ShardHostOutput {
  outbox(message: OutboxMessage, transfer: ArrayBuffer[]): void;
  stats(message: StatsMessage): void;
}

export class ShardHost {
  private readonly ctx: WorkerContext;
  private readonly actors: ActorRegistry;
  private readonly dispatcher: Dispatcher;
  private readonly statsTimer: NodeJS.Timeout;

  constructor(data: ShardWorkerData, output: ShardHostOutput) {
    this.ctx = createWorkerContext(data, output.outbox);
    this.actors = new ActorRegistry(this.ctx, { maxActors: data.maxActors });
    this.dispatcher = new Dispatcher(this.ctx, this.actors);
    this.statsTimer = setInterval(() => output.stats(this.stats()), STATS_INTERVAL_MS);
    this.statsTimer.unref();
  }

  /** Runs every frame of a task; resolves with how many once all are answered. */
  async run(task: ShardTask): Promise<number> {
    if (task.warm) await this.ctx.pg.query('SELECT 1');
    const work: Promise<void>[] = [];
    for (const frame of task.raw) work.push(this.dispatcher.raw(task.buf, frame));
    await Promise.all(work);
    return work.length;
  }

  private stats(): StatsMessage {
    const s = this.ctx.writer.stats;
    return {
      type: 'stats', slot: this.ctx.data.slot, actors: this.actors.size, batches: s.batches, messages: s.messages,
      deliveryStatuses: s.deliveryStatuses, receipts: s.receipts, failedBatches: s.failedBatches, fencedBatches: s.fencedBatches,
      commitMsTotal: s.commitMsTotal, writerQueued: this.ctx.writer.queued, writers: this.ctx.data.writers,
      replyLookups: this.ctx.counters.replyLookups,
    };
  }

  /** Stops the timers and closes the pools and Redis; the caller has let the running tasks finish. */
  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    this.actors.close();
    this.ctx.outbox.flush();
    await this.ctx.close();
  }
}
