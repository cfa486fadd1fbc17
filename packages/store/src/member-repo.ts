/**
 * Membership writes (conv.members.add / remove, conv.leave, member settings),
 * each in the caller's transaction: the actor's exclusive write, after its fence.
 */
import type { JsonObject, MemberRole } from '@whispr/protocol';
import { newId } from './ids.ts';
import { msToTimestamp, type Queryable } from './queryable.ts';
import type { MemberRow } from './rows.ts';

const RETURNED =
  'conversation_id, user_id, role, settings, joined_at, last_read_at, is_active, last_read_seq, last_delivered_seq';

/**
 * Adds users as members, or reactivates those who were removed or left. A
 * (re)joining member starts as a plain member, joined now, with everything up to
 * `readUpToSeq` (the system message recording the join) counted as read and
 * delivered: history from before they joined is readable, never unread.
 * Their own member settings (mute...) survive a removal and a return.
 */
export async function addOrReactivateMembers(
  db: Queryable,
  conversationId: string,
  userIds: string[],
  at: number,
  readUpToSeq: number,
): Promise<MemberRow[]> {
  if (userIds.length === 0) return [];
  const result = await db.query<MemberRow>(
    `INSERT INTO conversation_members (id, conversation_id, user_id, role, joined_at, is_active, last_read_seq, last_delivered_seq)
     SELECT u.id, $1, u.user_id, 'member', ${msToTimestamp('$4')}, true, $5, $5
       FROM unnest($2::uuid[], $3::uuid[]) AS u(id, user_id)
     ON CONFLICT (conversation_id, user_id) DO UPDATE
        SET is_active = true, role = 'member', joined_at = EXCLUDED.joined_at,
            last_read_seq = GREATEST(conversation_members.last_read_seq, EXCLUDED.last_read_seq),
            last_delivered_seq = GREATEST(conversation_members.last_delivered_seq, EXCLUDED.last_delivered_seq)
     RETURNING ${RETURNED}`,
    [conversationId, userIds.map(() => newId()), userIds, at, readUpToSeq],
  );
  return result.rows;
}

/** Marks members inactive (removed or left); the row stays, so a return reactivates it. */
export async function deactivateMembers(db: Queryable, conversationId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.query('UPDATE conversation_members SET is_active = false WHERE conversation_id = $1 AND user_id = ANY($2::uuid[])', [
    conversationId,
    userIds,
  ]);
}

export async function setMemberRole(db: Queryable, conversationId: string, userId: string, role: MemberRole): Promise<void> {
  await db.query('UPDATE conversation_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId, role]);
}

/** Merges `patch` into one member's settings (top-level keys replaced) and returns the result. */
export async function mergeMemberSettings(db: Queryable, conversationId: string, userId: string, patch: JsonObject): Promise<JsonObject> {
  const result = await db.query<{ settings: JsonObject }>(
    `UPDATE conversation_members SET settings = settings || $3::jsonb
      WHERE conversation_id = $1 AND user_id = $2 RETURNING settings`,
    [conversationId, userId, JSON.stringify(patch)],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`no member ${userId} in conversation ${conversationId}`);
  return row.settings;
}
