/**
 * The ownership fence (DESIGN.md invariant 1, "Fencing"; migration 0007,
 * docs/schema.md "Ownership fence"). An actor claims its conversation when it
 * loads it, which bumps `conversations.owner_epoch`; every batch calls
 * `whispr_fence(ids, epochs)` with the epochs its actors hold, inside the
 * statement or transaction that writes. If another owner has claimed one of
 * them since, PostgreSQL raises WF001 and nothing of that statement commits.
 */
import type pg from 'pg';
import type { SeqCounter } from './batch-writer.ts';

/** The SQLSTATE whispr_fence raises (a class of our own: no PostgreSQL error uses 'WF'). */
export const FENCE_SQLSTATE = 'WF001';

/** The fence's two parameter arrays: each conversation of the batch once, with the epoch its actor claimed. */
export type FencePairs = [ids: string[], epochs: number[]];

export function fencePairs(counters: Iterable<SeqCounter>): FencePairs {
  const epochs = new Map<string, number>();
  // One entry per conversation: a writer holds one counter per conversation, and if two ever
  // disagreed the first one's epoch is checked, which fails the batch either way (one is stale).
  for (const c of counters) if (!epochs.has(c.conversationId)) epochs.set(c.conversationId, c.epoch);
  return [[...epochs.keys()], [...epochs.values()]];
}

/** Inside the caller's transaction: locks the batch's conversation rows (FOR NO KEY UPDATE) until it ends, or raises WF001. */
export async function checkFence(client: pg.ClientBase, [ids, epochs]: FencePairs): Promise<void> {
  await client.query({ name: 'whispr_fence', text: 'SELECT whispr_fence($1::uuid[], $2::int8[])', values: [ids, epochs] });
}

export const isFenced = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === FENCE_SQLSTATE;

/**
 * The conversations a WF001 names (its DETAIL: the stale or missing ids, comma
 * separated), or null when it names none, which the writer reads as "all of them".
 */
export function fencedConversations(err: unknown): Set<string> | null {
  const detail = typeof err === 'object' && err !== null ? (err as { detail?: unknown }).detail : undefined;
  if (typeof detail !== 'string' || detail === '') return null;
  return new Set(detail.split(','));
}
