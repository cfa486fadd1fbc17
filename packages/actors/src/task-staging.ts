/**
 * Collects the frames routed to one shard during an event-loop turn into one
 * task. Raw frames are copied once, out of uWebSockets.js's transient buffer,
 * into a staging buffer; the task gets a right-sized copy of just the bytes used
 * (a turn often carries a few hundred bytes: a fresh zeroed 64 KiB per task
 * costs more), which a thread shard then transfers rather than clones.
 */
import type { RawFrame, ShardTask } from './shard-contract.ts';

const INITIAL_BUFFER = 64 * 1024;

/** Receives each turn's task, with the serials of its frames (for failure replies). */
export type TaskSink = (task: ShardTask, serials: number[]) => void;

export class TaskStaging {
  private buf = new ArrayBuffer(INITIAL_BUFFER);
  private view = new Uint8Array(this.buf);
  private size = 0;
  private raw: RawFrame[] = [];
  private scheduled = false;

  constructor(private readonly sink: TaskSink) {}

  pushRaw(frame: RawFrame, bytes: Uint8Array): void {
    const need = this.size + bytes.byteLength;
    if (need > this.buf.byteLength) {
      const grown = new ArrayBuffer(Math.max(need, this.buf.byteLength * 2));
      new Uint8Array(grown).set(this.view.subarray(0, this.size));
      this.buf = grown;
      this.view = new Uint8Array(grown);
    }
    this.view.set(bytes, this.size);
    frame.off = this.size;
    frame.len = bytes.byteLength;
    this.raw.push(frame);
    this.size = need;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Outside any uWebSockets.js callback, and after the rest of this turn's frames.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.raw.length === 0) return;
    const task: ShardTask = { buf: this.buf.slice(0, this.size), raw: this.raw };
    const serials: number[] = [];
    for (const f of task.raw) serials.push(f.serial);
    this.size = 0;
    this.raw = [];
    this.sink(task, serials);
  }
}
