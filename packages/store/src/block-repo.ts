/**
 * User blocks (user_blocks, seed §5.2; rows come from the user-service). A row
 * (blocker_id, blocked_id) means the blocker does not want to hear from the
 * blocked user: the blocked user may not open or write into the direct
 * conversation with the blocker, nor put the blocker into a group.
 */
import type { Queryable } from './queryable.ts';

export interface BlockRow {
  blocker_id: string;
  blocked_id: string;
}

/** The blocks between users of this set, in either direction (a direct conversation's pair). */
export async function blocksAmong(db: Queryable, userIds: string[]): Promise<BlockRow[]> {
  const result = await db.query<BlockRow>(
    'SELECT blocker_id, blocked_id FROM user_blocks WHERE blocker_id = ANY($1::uuid[]) AND blocked_id = ANY($1::uuid[])',
    [userIds],
  );
  return result.rows;
}

/** Which of `candidates` block `userId` (who may not be added to a group by that user). */
export async function blockersOf(db: Queryable, userId: string, candidates: string[]): Promise<string[]> {
  if (candidates.length === 0) return [];
  const result = await db.query<{ blocker_id: string }>(
    'SELECT blocker_id FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::uuid[]) ORDER BY blocker_id',
    [userId, candidates],
  );
  return result.rows.map((r) => r.blocker_id);
}
