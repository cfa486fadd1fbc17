/**
 * message_reactions (seed §2.2.6): one row per (message, user, reaction).
 *
 * Each write is one statement, run inside the actor's fenced transaction
 * (actors/exclusive.ts): it finds the message in the conversation, checks the
 * caps and the block, and inserts or deletes, so that a reaction costs the
 * fence and this one round trip. The actor is the conversation's only writer
 * and runs these one at a time, so the counts it reads cannot change before its
 * insert.
 */
import type { ReactionSummary } from '@whispr/protocol';
import type { Queryable } from './queryable.ts';

export interface ReactionChange {
  conversationId: string;
  messageId: string;
  userId: string;
  reaction: string;
}

export interface AddReaction extends ReactionChange {
  /** In a direct conversation, the other member: their block of `userId` forbids the reaction. Null in groups. */
  blockerId: string | null;
  maxPerUser: number;
  maxPerMessage: number;
}

/**
 * What adding did. `missing`: no such message in this conversation; `tombstone`:
 * deleted for everyone; `blocked`: the other member blocks the user; the caps:
 * refused for them; `present`: it was already there (nothing changed).
 */
export type AddReactionOutcome = 'added' | 'present' | 'missing' | 'tombstone' | 'blocked' | 'user_cap' | 'message_cap';

/** Adds the reaction unless it is there already or refused (see AddReactionOutcome). */
export async function addReaction(db: Queryable, r: AddReaction): Promise<AddReactionOutcome> {
  // The per-message count runs only for a reaction the message does not carry
  // yet (a CASE arm's subquery is evaluated only when reached).
  const result = await db.query<{ verdict: Exclude<AddReactionOutcome, 'missing'> }>(
    `WITH target AS (
       SELECT (m.is_deleted AND m.delete_for_everyone) AS tombstone
         FROM messages m WHERE m.id = $1 AND m.conversation_id = $2
     ), decided AS (
       SELECT CASE
         WHEN t.tombstone THEN 'tombstone'
         WHEN $4::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = $4 AND b.blocked_id = $3) THEN 'blocked'
         WHEN EXISTS (SELECT 1 FROM message_reactions r WHERE r.message_id = $1 AND r.user_id = $3 AND r.reaction = $5) THEN 'present'
         WHEN (SELECT count(*) FROM message_reactions r WHERE r.message_id = $1 AND r.user_id = $3) >= $6 THEN 'user_cap'
         WHEN NOT EXISTS (SELECT 1 FROM message_reactions r WHERE r.message_id = $1 AND r.reaction = $5)
              AND (SELECT count(DISTINCT r.reaction) FROM message_reactions r WHERE r.message_id = $1) >= $7 THEN 'message_cap'
         ELSE 'added' END AS verdict
         FROM target t
     ), inserted AS (
       INSERT INTO message_reactions (message_id, user_id, reaction)
       SELECT $1, $3, $5 FROM decided WHERE verdict = 'added'
       RETURNING 1
     )
     SELECT verdict FROM decided`,
    [r.messageId, r.conversationId, r.userId, r.blockerId, r.reaction, r.maxPerUser, r.maxPerMessage],
  );
  return result.rows[0]?.verdict ?? 'missing';
}

/** What removing did: `missing` when no such message is in this conversation. */
export type RemoveReactionOutcome = 'removed' | 'absent' | 'missing';

/** Removes the reaction if it is there; a reaction that is not there is not an error. */
export async function removeReaction(db: Queryable, r: ReactionChange): Promise<RemoveReactionOutcome> {
  const result = await db.query<{ found: boolean; removed: boolean }>(
    `WITH target AS (
       SELECT m.id FROM messages m WHERE m.id = $1 AND m.conversation_id = $2
     ), removed AS (
       DELETE FROM message_reactions r USING target t
        WHERE r.message_id = t.id AND r.user_id = $3 AND r.reaction = $4
       RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM removed) AS removed`,
    [r.messageId, r.conversationId, r.userId, r.reaction],
  );
  const row = result.rows[0];
  if (!row?.found) return 'missing';
  return row.removed ? 'removed' : 'absent';
}

/**
 * The reaction summaries of these messages as `viewerId` sees them (`me`: the
 * viewer is among those reacting), in one query for the whole set. Messages
 * without reactions are absent from the map (their summary is []). The same
 * summary, in the same order (by reaction), as the `reactions` column of
 * messageColumns (rows.ts), for code that builds messages from other rows.
 */
export async function reactionsFor(db: Queryable, messageIds: readonly string[], viewerId: string): Promise<Map<string, ReactionSummary[]>> {
  const summaries = new Map<string, ReactionSummary[]>();
  if (messageIds.length === 0) return summaries;
  const result = await db.query<{ message_id: string; reaction: string; count: number; me: boolean }>(
    `SELECT r.message_id, r.reaction, count(*)::int AS count, bool_or(r.user_id = $2) AS me
       FROM message_reactions r
      WHERE r.message_id = ANY($1::uuid[])
      GROUP BY r.message_id, r.reaction
      ORDER BY r.message_id, r.reaction`,
    [messageIds, viewerId],
  );
  for (const row of result.rows) {
    const list = summaries.get(row.message_id) ?? [];
    list.push({ reaction: row.reaction, count: row.count, me: row.me });
    summaries.set(row.message_id, list);
  }
  return summaries;
}
