/**
 * The main thread's handle on one shard: a piscina pool of exactly one thread.
 *
 * One thread per pool is what gives actors a stable home: every task of the
 * pool runs in the same thread, so a conversation routed to this shard always
 * meets the same in-memory actor. (One pool of N threads would hand tasks to
 * whichever thread is least busy.) If the thread dies, piscina rejects its
 * unfinished tasks and starts a replacement (minThreads 1); the gateway answers
 * the frames of the rejected tasks with `unavailable`, and the new thread
 * reloads actors from PostgreSQL.
 *
 * Frames routed here during one event-loop turn go out as one task whose bytes
 * are copied once, out of uWebSockets.js's transient buffer, into an
 * ArrayBuffer that is then transferred, not cloned.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { isWorkerMessage, type DecodedFrame, type OutboxMessage, type RawFrame, type ShardTask, type ShardWorkerData, type StatsMessage } from './shard-contract.ts';

const WORKER_FILE = fileURLToPath(new URL('./shard-worker.ts', import.meta.url));
const INITIAL_BUFFER = 64 * 1024;

export interface ShardClientOptions {
  workerData: ShardWorkerData;
  logger: Logger;
  /** Tasks that may wait for the thread before `submit` pushes back. */
  maxQueue?: number;
}

interface ShardClientEvents {
  outbox: [OutboxMessage];
  stats: [StatsMessage];
  /** A task failed (its thread died): these serials will get no reply from the worker. */
  failed: [serials: number[], error: Error];
}

type FrameMeta = Omit<RawFrame, 'off' | 'len'>;

export class ShardClient extends EventEmitter<ShardClientEvents> {
  readonly slot: string;
  private readonly pool: Piscina<ShardTask, number>;
  private readonly logger: Logger;
  private buf = new ArrayBuffer(INITIAL_BUFFER);
  private view = new Uint8Array(this.buf);
  private size = 0;
  private raw: RawFrame[] = [];
  private decoded: DecodedFrame[] = [];
  private scheduled = false;
  private closed = false;

  constructor(options: ShardClientOptions) {
    super();
    const maxQueue = options.maxQueue ?? 10_000;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new TypeError(`ShardClient option maxQueue must be a positive integer, got ${maxQueue}`);
    this.slot = options.workerData.slot;
    this.logger = options.logger.child({ slot: this.slot });
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

  /** Queues a raw frame; its bytes are copied now (the caller's buffer is transient). */
  pushRaw(meta: FrameMeta, bytes: Uint8Array): void {
    const need = this.size + bytes.byteLength;
    if (need > this.buf.byteLength) {
      const grown = new ArrayBuffer(Math.max(need, this.buf.byteLength * 2));
      new Uint8Array(grown).set(this.view.subarray(0, this.size));
      this.buf = grown;
      this.view = new Uint8Array(grown);
    }
    this.view.set(bytes, this.size);
    this.raw.push({ serial: meta.serial, conn: meta.conn, user: meta.user, enc: meta.enc, route: meta.route, off: this.size, len: bytes.byteLength });
    this.size = need;
    this.schedule();
  }

  pushDecoded(frame: DecodedFrame): void {
    this.decoded.push(frame);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.raw.length === 0 && this.decoded.length === 0) return;
    // The staging buffer stays here; the task gets a copy of just the bytes used
    // (a turn often carries a few hundred bytes: a fresh zeroed 64 KiB per task costs more).
    const task: ShardTask = { buf: this.raw.length > 0 ? this.buf.slice(0, this.size) : null, raw: this.raw, decoded: this.decoded };
    const serials: number[] = [];
    for (const f of task.raw) serials.push(f.serial);
    for (const f of task.decoded) serials.push(f.serial);
    const transferList = task.buf ? [task.buf] : [];
    this.size = 0;
    this.raw = [];
    this.decoded = [];
    if (this.closed) {
      this.emit('failed', serials, new Error('shard is closed'));
      return;
    }
    this.pool.run(task, { transferList }).then(
      () => undefined,
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error({ err: error, frames: serials.length }, 'shard task failed');
        this.emit('failed', serials, error);
      },
    );
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
