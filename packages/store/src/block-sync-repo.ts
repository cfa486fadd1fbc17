/**
 * Applies the user-service's list of whom a user blocks (user_blocks, seed
 * §5.2; the internal API's SyncBlocks): the rows become exactly that list, and
 * the caller learns which pairs changed so their direct conversations' actors
 * can re-read them.
 */
import type { Queryable } from './queryable.ts';

export interface BlockChanges {
  added: string[];
  removed: string[];
}

/**
 * Makes `blockerId`'s blocks exactly `blockedIds`, in one transaction of
 * `client` (a checked-out connection). Syncs of one blocker are serialized by a
 * transaction-scoped advisory lock, so two concurrent syncs end as one of them,
 * never as a mix. Rows already there keep their created_at.
 */
export async function replaceBlocks(client: Queryable, blockerId: string, blockedIds: string[]): Promise<BlockChanges> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('user_blocks:' || $1::text, 0))", [blockerId]);
    const removed = await client.query<{ blocked_id: string }>(
      'DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id <> ALL($2::uuid[]) RETURNING blocked_id',
      [blockerId, blockedIds],
    );
    const added = await client.query<{ blocked_id: string }>(
      `INSERT INTO user_blocks (blocker_id, blocked_id)
       SELECT $1, b FROM unnest($2::uuid[]) AS b
       ON CONFLICT (blocker_id, blocked_id) DO NOTHING
       RETURNING blocked_id`,
      [blockerId, blockedIds],
    );
    await client.query('COMMIT');
    return { added: added.rows.map((r) => r.blocked_id).sort(), removed: removed.rows.map((r) => r.blocked_id).sort() };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined /* the connection may be gone; the original error says why */);
    throw err;
  }
}
