/** How long conversations went without an ack around an event (a kill, a join, a Redis restart). */
import type { ChatLoad } from './chat-load.ts';

/**
 * The longest wait for an ack a conversation saw from `at` on: the gaps between
 * consecutive acks, the first one counted from `at` (a send in flight at the
 * event waits for the new owner; its retries keep the client_random).
 * Infinity when it got no ack after `at`.
 */
export function outageMs(load: ChatLoad, conversationId: string, at: number): number {
  const times = load.acksOf(conversationId).map((a) => a.ackedAt).filter((t) => t > at).sort((a, b) => a - b);
  if (times.length === 0) return Infinity;
  let worst = (times[0] ?? at) - at;
  for (let i = 1; i < times.length; i++) worst = Math.max(worst, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return worst;
}

export interface OutageSummary {
  count: number;
  maxMs: number;
  medianMs: number;
}

export function summarize(values: number[]): OutageSummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, maxMs: sorted.at(-1) ?? 0, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
}

export const secs = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'never');
