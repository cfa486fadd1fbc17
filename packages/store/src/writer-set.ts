/**
 * The batch writers of one shard. Each has its own PostgreSQL connection and
 * owns a fixed share of the shard's conversations (by the last hex digits of
 * the conversation id, which are random in UUIDv5 and UUIDv7 alike): a
 * conversation always goes through the same writer, whose single transaction in
 * flight keeps its seqs committing in order (batch-writer.ts), while other
 * conversations commit at the same time on other PostgreSQL backends. One
 * writer caps a shard at what one backend can insert; a batch that waits
 * behind another conversation's slow commit is most of the tail latency.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { BatchWriter, type BatchWriterStats, type ReceiptRequest, type SendOutcome, type SendRequest } from './batch-writer.ts';

export interface WriterSetOptions {
  /** A pipelined pool with at least `writers` + 1 connections (one spare for a failed batch's reload). */
  pool: pg.Pool;
  logger: Logger;
  /** How many writers (connections writing at once). */
  writers: number;
  /** Writes each writer may queue for its next transaction (BatchWriter maxQueued). */
  maxQueuedPerWriter?: number;
}

export class WriterSet {
  private readonly writers: BatchWriter[];

  constructor(options: WriterSetOptions) {
    const { writers } = options;
    if (!Number.isInteger(writers) || writers < 1 || writers > 64) throw new TypeError(`WriterSet option writers must be an integer from 1 to 64, got ${writers}`);
    this.writers = Array.from({ length: writers }, (_, i) => new BatchWriter({ pool: options.pool, logger: options.logger.child({ writer: i }), ...(options.maxQueuedPerWriter !== undefined ? { maxQueued: options.maxQueuedPerWriter } : {}) }));
  }

  private writerFor(conversationId: string): BatchWriter {
    const writer = this.writers[Number.parseInt(conversationId.slice(-4), 16) % this.writers.length];
    if (!writer) throw new Error(`no writer for conversation ${conversationId}`);
    return writer;
  }

  /** Whether the writer of this conversation has room for another write now. */
  hasRoom(conversationId: string): boolean {
    return this.writerFor(conversationId).hasRoom;
  }

  send(request: SendRequest): Promise<SendOutcome> {
    return this.writerFor(request.counter.conversationId).send(request);
  }

  receipt(request: ReceiptRequest): Promise<void> {
    return this.writerFor(request.counter.conversationId).receipt(request);
  }

  /** Writes waiting for their writer's next transaction. */
  get queued(): number {
    return this.writers.reduce((n, w) => n + w.queued, 0);
  }

  /** Summed over the writers (commitMsTotal too: with N writers it grows up to N times as fast as the clock). */
  get stats(): BatchWriterStats {
    const sum: BatchWriterStats = { batches: 0, messages: 0, deliveryStatuses: 0, receipts: 0, failedBatches: 0, fencedBatches: 0, lastBatchSize: 0, commitMsTotal: 0 };
    for (const w of this.writers) {
      const s = w.stats;
      sum.batches += s.batches;
      sum.messages += s.messages;
      sum.deliveryStatuses += s.deliveryStatuses;
      sum.receipts += s.receipts;
      sum.failedBatches += s.failedBatches;
      sum.fencedBatches += s.fencedBatches;
      sum.lastBatchSize = Math.max(sum.lastBatchSize, s.lastBatchSize);
      sum.commitMsTotal += s.commitMsTotal;
    }
    return sum;
  }

  /** Lets every writer finish what it was handed, then gives their connections back (the shard is closing). */
  async close(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.close()));
  }
}
