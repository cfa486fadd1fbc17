/** Small timing helpers shared by the load loops and the orchestration. */
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Monotonic milliseconds (fractional): every latency in the bench is a difference of two of these. */
export const now = (): number => performance.now();

/** Waits until `done()` holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(done: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}
