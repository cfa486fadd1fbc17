/**
 * One archival run (seed §11.2 archive_inactive_conversations, done through
 * the owners): active conversations without activity for `inactiveDays`, a
 * page at a time, each archived by its owner with conv.archive, which checks
 * again in the conversation's line that nothing happened since.
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { inactiveConversations, type Queryable } from '@whispr/store';
import type { OwnerCalls } from './maintenance-queue.ts';
import { RunInterrupted, withOwnerRetries } from './owner-retry.ts';

const DAY_MS = 24 * 3600_000;
const PAGE = 200;

export interface ArchivalRunOptions {
  pg: Queryable;
  calls: OwnerCalls;
  logger: Logger;
  now: number;
  inactiveDays: number;
  stopping?: () => boolean;
}

export interface ArchivalRunSummary {
  candidates: number;
  archived: number;
  failed: number;
}

export async function runArchival(o: ArchivalRunOptions): Promise<ArchivalRunSummary> {
  const stopping = o.stopping ?? (() => false);
  const before = o.now - o.inactiveDays * DAY_MS;
  const summary: ArchivalRunSummary = { candidates: 0, archived: 0, failed: 0 };
  let after: string | null = null;
  for (;;) {
    const page = await inactiveConversations(o.pg, before, after, PAGE);
    for (const id of page) {
      if (stopping()) throw new RunInterrupted();
      summary.candidates++;
      try {
        const result = await withOwnerRetries(() => o.calls.call({ kind: 'service' }, { op: 'conv.archive', conversation_id: id, inactive_before: before }), stopping);
        if (result?.archived === true) summary.archived++;
      } catch (err) {
        if (err instanceof RunInterrupted) throw err;
        summary.failed++;
        o.logger.warn({ err, conversation: id }, 'archival: this conversation could not be archived; the job will be retried');
      }
      await yieldTurn();
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < PAGE) break;
    after = last;
  }
  return summary;
}
