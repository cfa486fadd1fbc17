/**
 * Calls to a conversation's owner from a maintenance run: an answer meaning
 * "not now" (the owner moving or busy: unavailable, rate_limited) is retried
 * after a pause, a few times; a conversation gone since the run was planned
 * (not_found) is skipped. Anything else is the caller's to count and report.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, WhisprError } from '@whispr/protocol';

const ATTEMPTS = 5;
const PAUSE_MS = 200;

/** Thrown between batches when the node is stopping: the job fails and is retried (on another node, or after the restart). */
export class RunInterrupted extends Error {
  constructor() {
    super('the node is stopping; the run is retried later');
  }
}

/** The call's result, or null when the conversation no longer exists. */
export async function withOwnerRetries<T>(call: () => Promise<T>, stopping: () => boolean): Promise<T | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WhisprError && err.code === ErrorCode.NotFound) return null;
      const passing = err instanceof WhisprError && (err.code === ErrorCode.Unavailable || err.code === ErrorCode.RateLimited);
      if (!passing || attempt >= ATTEMPTS) throw err;
      if (stopping()) throw new RunInterrupted();
      const hinted = err.details.retry_after_ms;
      await sleep(typeof hinted === 'number' ? hinted : PAUSE_MS * attempt);
    }
  }
}
