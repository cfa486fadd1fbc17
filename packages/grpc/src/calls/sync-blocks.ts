/**
 * SyncBlocks: the user-service's list of whom a user blocks becomes the
 * user_blocks rows (committed first, in one transaction), then the owner of
 * each changed pair's direct conversation is told (internal.blocks.changed, as
 * the service) so its actor re-reads them before the next send. Groups keep no
 * blocks in memory: adding a member reads them from PostgreSQL.
 *
 * The rows are committed before the notifications, and a sync that changes no
 * rows sends none: a notification that fails (the owner overloaded or
 * unreachable) is retried here a few times, then fails the call with its
 * status. An actor that still missed one reloads when it is next claimed (a
 * ring change, the owner's restart) or evicted; docs/operations.md says so.
 */
import { badRequest, ErrorCode, WhisprError } from '@whispr/protocol';
import { directConversationId, replaceBlocks, type BlockChanges } from '@whispr/store';
import type pg from 'pg';
import { requireUserId, requireUserIds } from '../fields.ts';
import type { OwnerCalls } from '../owner-calls.ts';
import type { SyncBlocksRequest, SyncBlocksResponse } from '../wire.ts';

/** Most users one user may block (a bound on the request and on the notifications one call makes). */
export const MAX_BLOCKS_PER_USER = 10_000;
/** Notifications in flight at once: well under the router's MAX_INFLIGHT_INTERNAL, shared with every other internal call. */
const NOTIFY_CONCURRENCY = 32;
const SERVICE = { kind: 'service' } as const;
/** Waits before each retry of a notification the owner could not take (rate_limited, unavailable). */
const RETRY_DELAYS_MS = [50, 200, 800];

export async function syncBlocks(pool: pg.Pool, owners: OwnerCalls, req: SyncBlocksRequest): Promise<SyncBlocksResponse> {
  const userId = requireUserId('user_id', req.user_id);
  const blocked = requireUserIds('blocked_ids', req.blocked_ids, 0, MAX_BLOCKS_PER_USER);
  if (blocked.includes(userId)) throw badRequest('blocked_ids', 'must not name user_id');
  const client = await pool.connect();
  let changes: BlockChanges;
  try {
    changes = await replaceBlocks(client, userId, blocked);
  } catch (err) {
    client.release(true); // destroyed, not pooled: its transaction state is unknown
    throw err;
  }
  client.release();
  await notifyOwners(owners, userId, [...changes.added, ...changes.removed]);
  return { added_ids: changes.added, removed_ids: changes.removed };
}

async function notifyOwners(owners: OwnerCalls, userId: string, others: string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < others.length) {
      const other = others[next++]!;
      await notify(owners, directConversationId(userId, other));
    }
  };
  await Promise.all(Array.from({ length: Math.min(NOTIFY_CONCURRENCY, others.length) }, worker));
}

async function notify(owners: OwnerCalls, conversationId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await owners.call(SERVICE, { op: 'internal.blocks.changed', conversation_id: conversationId });
      return;
    } catch (err) {
      // No direct conversation between them: nothing in memory to refresh.
      if (err instanceof WhisprError && err.code === ErrorCode.NotFound) return;
      const retriable = err instanceof WhisprError && (err.code === ErrorCode.Unavailable || err.code === ErrorCode.RateLimited);
      const delay = RETRY_DELAYS_MS[attempt];
      if (!retriable || delay === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
