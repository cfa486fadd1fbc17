/**
 * Retention (seed §11.1) and archival (seed §11.2), as SQL the conversation's
 * owner runs in its line, one bounded window at a time (actors/ops/maintenance.ts),
 * plus the read-only look-ups the maintenance jobs plan their runs with.
 *
 * A retention window is a range of seqs, not "the next N expired rows": the
 * (conversation_id, seq) index makes each window a short range scan, and rows
 * already turned into tombstones by an earlier window are never scanned again
 * in the same run. Messages expired in it become tombstones as PROTOCOL.md §4
 * says (same id and seq, is_deleted and delete_for_everyone, empty content, no
 * metadata, no attachments); their seqs stay, so every seq still names a message.
 */
import { msToTimestamp, type Queryable } from './queryable.ts';

export interface RetentionWindow {
  conversationId: string;
  /** The window is seqs afterSeq+1 .. afterSeq+limit. */
  afterSeq: number;
  limit: number;
  /** Messages sent before this (ms) become tombstones; null: no message retention. */
  before: number | null;
  /** Attachments of messages sent before this (ms) are removed; null: no media retention. */
  mediaBefore: number | null;
}

export interface RetentionWindowResult {
  /** The messages turned into tombstones, ascending seq. */
  expired: { id: string; seq: number }[];
  /** Attachments removed from messages that stay (media retention shorter than message retention). */
  mediaRemoved: number;
  /** Rows in the window (fewer than limit: the window reached the newest message). */
  scanned: number;
  /**
   * The window holds a message sent at or after the later cutoff. Seqs are given
   * at commit and sent_at is stamped at commit, so later seqs are later messages:
   * nothing past this window can be expired yet.
   */
  reachedLive: boolean;
}

/**
 * Expires one window in the caller's transaction (which started with the
 * ownership fence). One statement: the window's rows are read once, and the
 * tombstones and the attachment deletions are made from that one snapshot.
 */
export async function expireWindow(db: Queryable, w: RetentionWindow): Promise<RetentionWindowResult> {
  const before = msToTimestamp('$4');
  const mediaBefore = msToTimestamp('$5');
  const { rows } = await db.query<{ expired: { id: string; seq: string | number }[]; media_removed: number; scanned: number; reached_live: boolean | null }>(
    `WITH win AS (
       SELECT id, seq, sent_at, is_deleted AND delete_for_everyone AS tombstone,
              ($4::float8 IS NOT NULL AND sent_at < ${before}) AS expires
       FROM messages
       WHERE conversation_id = $1 AND seq > $2 AND seq <= $2::bigint + $3
     ),
     tombstoned AS (
       UPDATE messages m
       SET is_deleted = TRUE, delete_for_everyone = TRUE, content = '\\x'::bytea, metadata = '{}'::jsonb
       FROM win
       WHERE m.id = win.id AND win.expires AND NOT win.tombstone
       RETURNING m.id, m.seq
     ),
     media AS (
       DELETE FROM message_attachments a
       USING win
       WHERE a.message_id = win.id AND (win.expires OR ($5::float8 IS NOT NULL AND win.sent_at < ${mediaBefore}))
       RETURNING win.expires
     )
     SELECT
       (SELECT COALESCE(json_agg(json_build_object('id', id, 'seq', seq) ORDER BY seq), '[]'::json) FROM tombstoned) AS expired,
       (SELECT count(*)::int FROM media WHERE NOT expires) AS media_removed,
       (SELECT count(*)::int FROM win) AS scanned,
       (SELECT bool_or(sent_at >= GREATEST(${before}, ${mediaBefore})) FROM win) AS reached_live`,
    [w.conversationId, w.afterSeq, w.limit, w.before, w.mediaBefore],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('the retention window query returned no row');
  return {
    expired: row.expired.map((e) => ({ id: e.id, seq: Number(e.seq) })),
    mediaRemoved: row.media_removed,
    scanned: row.scanned,
    reachedLive: row.reached_live === true,
  };
}

/**
 * Where a run starts in a conversation: just below its oldest message not yet a
 * tombstone (found on the (conversation_id, sent_at) index), so the prefix that
 * earlier runs expired is not scanned again every day. Null: nothing to expire.
 */
export async function retentionStartSeq(db: Queryable, conversationId: string): Promise<number | null> {
  const { rows } = await db.query<{ seq: string }>(
    `SELECT seq FROM messages
     WHERE conversation_id = $1 AND NOT (is_deleted AND delete_for_everyone)
     ORDER BY sent_at, seq LIMIT 1`,
    [conversationId],
  );
  const first = rows[0];
  return first === undefined ? null : Number(first.seq) - 1;
}

export interface RetentionPolicy {
  conversationId: string;
  /** Null: messages are kept for ever. */
  retentionDays: number | null;
  /** Null: attachments go with their messages only. */
  retainMediaDays: number | null;
}

/** One page of the policies that expire anything, in conversation id order (a run pages through them). */
export async function retentionPolicies(db: Queryable, afterConversationId: string | null, limit: number): Promise<RetentionPolicy[]> {
  const { rows } = await db.query<{ conversation_id: string; retention_days: number | null; retain_media_days: number | null }>(
    `SELECT conversation_id, retention_days, retain_media_days FROM retention_policies
     WHERE (retention_days IS NOT NULL OR retain_media_days IS NOT NULL)
       AND ($1::uuid IS NULL OR conversation_id > $1::uuid)
     ORDER BY conversation_id LIMIT $2`,
    [afterConversationId, limit],
  );
  return rows.map((r) => ({ conversationId: r.conversation_id, retentionDays: r.retention_days, retainMediaDays: r.retain_media_days }));
}

/**
 * Sets (or replaces) a conversation's policy. Days are whole days of at least 1,
 * or null. auto_delete_for_everyone is kept for the seed's schema; retention
 * always makes tombstones for everyone (PROTOCOL.md §4).
 */
export async function setRetentionPolicy(db: Queryable, p: RetentionPolicy): Promise<void> {
  for (const days of [p.retentionDays, p.retainMediaDays]) {
    if (days !== null && (!Number.isSafeInteger(days) || days < 1 || days > 2_147_483_647)) throw new RangeError(`retention days must be a whole number of at least 1, or null: ${days}`);
  }
  await db.query(
    `INSERT INTO retention_policies (conversation_id, retention_days, retain_media_days, auto_delete_for_everyone)
     VALUES ($1, $2, $3, TRUE)
     ON CONFLICT (conversation_id) DO UPDATE
       SET retention_days = EXCLUDED.retention_days, retain_media_days = EXCLUDED.retain_media_days, updated_at = NOW()`,
    [p.conversationId, p.retentionDays, p.retainMediaDays],
  );
}

/** One page of active conversations with no activity since `before` (ms), in id order. */
export async function inactiveConversations(db: Queryable, before: number, afterId: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM conversations
     WHERE is_active AND updated_at < ${msToTimestamp('$1')} AND ($2::uuid IS NULL OR id > $2::uuid)
     ORDER BY id LIMIT $3`,
    [before, afterId, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Archives the conversation as the seed's archive_inactive_conversations does
 * (a copy of its metadata and members in archived_conversations, the
 * conversation marked inactive, nothing deleted), if it is still active and
 * still without activity since `before` when the owner runs it. True if archived.
 */
export async function archiveIfInactive(db: Queryable, conversationId: string, before: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH c AS (
       SELECT * FROM conversations
       WHERE id = $1 AND is_active AND updated_at < ${msToTimestamp('$2')}
       FOR UPDATE
     ),
     archived AS (
       INSERT INTO archived_conversations (id, conversation_data, last_activity_at)
       SELECT c.id,
              jsonb_build_object(
                'type', c.type, 'external_group_id', c.external_group_id, 'metadata', c.metadata,
                'created_at', c.created_at, 'last_seq', c.last_seq,
                'members', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                              'user_id', cm.user_id, 'role', cm.role, 'is_active', cm.is_active, 'settings', cm.settings,
                              'joined_at', cm.joined_at, 'last_read_at', cm.last_read_at) ORDER BY cm.joined_at, cm.user_id), '[]'::jsonb)
                            FROM conversation_members cm WHERE cm.conversation_id = c.id)),
              c.updated_at
       FROM c
       ON CONFLICT (id) DO UPDATE
         SET conversation_data = EXCLUDED.conversation_data, archived_at = NOW(), last_activity_at = EXCLUDED.last_activity_at
       RETURNING id
     )
     UPDATE conversations SET is_active = FALSE WHERE id IN (SELECT id FROM archived)`,
    [conversationId, before],
  );
  return (rowCount ?? 0) > 0;
}
