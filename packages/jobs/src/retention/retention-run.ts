/**
 * One retention run (seed §11.1 cleanup_expired_messages, done through the
 * owners): every conversation whose policy expires anything, page by page, and
 * in each conversation window after window of at most RETENTION_BATCH_MAX seqs,
 * each window one retention.expire on the conversation's owner (one short
 * transaction in its line). The run waits for each window's reply before the
 * next, and yields to the event loop between them, so the owner's line is open
 * for live sends between any two batches and a run never floods a shard.
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { RETENTION_BATCH_MAX } from '@whispr/protocol';
import { retentionPolicies, retentionStartSeq, type Queryable, type RetentionPolicy } from '@whispr/store';
import type { OwnerCalls } from './maintenance-queue.ts';
import { RunInterrupted, withOwnerRetries } from './owner-retry.ts';

const DAY_MS = 24 * 3600_000;
const POLICY_PAGE = 100;

export interface RetentionRunOptions {
  pg: Queryable;
  calls: OwnerCalls;
  logger: Logger;
  /** The run's clock: cutoffs are this minus each policy's days. */
  now: number;
  /** Seqs per window (at most RETENTION_BATCH_MAX). */
  batch?: number;
  /** True once the node is stopping: the run stops between batches. */
  stopping?: () => boolean;
  /** Called after each window (progress for the job). */
  onBatch?: (summary: RetentionRunSummary) => void;
}

export interface RetentionRunSummary {
  conversations: number;
  batches: number;
  expired: number;
  mediaRemoved: number;
  /** Conversations whose run failed (logged each); the job is then retried. */
  failed: number;
}

export async function runRetention(o: RetentionRunOptions): Promise<RetentionRunSummary> {
  const stopping = o.stopping ?? (() => false);
  const summary: RetentionRunSummary = { conversations: 0, batches: 0, expired: 0, mediaRemoved: 0, failed: 0 };
  let after: string | null = null;
  for (;;) {
    const page = await retentionPolicies(o.pg, after, POLICY_PAGE);
    for (const policy of page) {
      try {
        await expireConversation(o, policy, summary, stopping);
      } catch (err) {
        if (err instanceof RunInterrupted) throw err;
        summary.failed++;
        o.logger.warn({ err, conversation: policy.conversationId }, 'retention: this conversation’s run failed; the job will be retried');
      }
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < POLICY_PAGE) break;
    after = last.conversationId;
  }
  return summary;
}

async function expireConversation(o: RetentionRunOptions, policy: RetentionPolicy, summary: RetentionRunSummary, stopping: () => boolean): Promise<void> {
  const before = policy.retentionDays === null ? null : o.now - policy.retentionDays * DAY_MS;
  const mediaBefore = policy.retainMediaDays === null ? null : o.now - policy.retainMediaDays * DAY_MS;
  // A read-only hint, outside the line: the owner re-checks every row it changes.
  const start = await retentionStartSeq(o.pg, policy.conversationId);
  if (start === null) return;
  summary.conversations++;
  const limit = Math.min(o.batch ?? RETENTION_BATCH_MAX, RETENTION_BATCH_MAX);
  let afterSeq = start;
  for (;;) {
    if (stopping()) throw new RunInterrupted();
    const result = await withOwnerRetries(
      () => o.calls.call({ kind: 'service' }, { op: 'retention.expire', conversation_id: policy.conversationId, before, media_before: mediaBefore, after_seq: afterSeq, limit }),
      stopping,
    );
    if (result === null) return;
    summary.batches++;
    summary.expired += result.expired;
    summary.mediaRemoved += result.media_removed;
    o.onBatch?.(summary);
    if (result.done) return;
    afterSeq = result.next_after_seq;
    await yieldTurn();
  }
}
