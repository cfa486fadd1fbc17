/** Reads and writes of conversations and their members. */
import type { ConversationType, JsonObject, MemberRole } from '@whispr/protocol';
import { blocksAmong, type BlockRow } from './block-repo.ts';
import { newId } from './ids.ts';
import { countsAsUnread } from './message-visibility.ts';
import { msToTimestamp, type Queryable } from './queryable.ts';
import type { ConversationRow, MemberRow } from './rows.ts';

const CONVERSATION_COLUMNS = 'c.id, c.type, c.external_group_id, c.metadata, c.created_at, c.updated_at, c.is_active, c.last_seq';
const MEMBER_COLUMNS =
  'm.conversation_id, m.user_id, m.role, m.settings, m.joined_at, m.last_read_at, m.is_active, m.last_read_seq, m.last_delivered_seq';

export interface LoadedConversation {
  row: ConversationRow;
  members: MemberRow[];
  /** The highest committed seq (from the messages themselves, the fence's source of truth). */
  maxSeq: number;
  /** The ownership epoch the loader holds (fence.ts): every batch it writes is checked against it. */
  epoch: number;
  /** For a direct conversation, the blocks between its two users (the send path checks them from memory); none for a group. */
  blocks: BlockRow[];
}

/**
 * How a load establishes ownership: claim the conversation now for `owner` (a
 * shard slot, recorded in owner_node), or use the epoch the caller already holds
 * (it has just created the conversation, claimed at epoch 1).
 */
export type Ownership = { claimFor: string } | { heldEpoch: number };

/**
 * Claims the conversation (owner_epoch + 1) unless the caller already holds it,
 * then reads it. Null: no such conversation.
 *
 * The reads are separate statements after the claim, never part of it: the claim's
 * UPDATE may wait for a former owner's batch that holds the fence's lock, and only
 * a statement that starts after the claim returns has a snapshot that contains
 * that batch's commit. From the claim on, any batch of the former owner is fenced,
 * so these reads see every write the conversation will ever have before ours.
 */
export async function loadConversation(db: Queryable, id: string, ownership: Ownership): Promise<LoadedConversation | null> {
  let epoch: number;
  if ('claimFor' in ownership) {
    const claimed = await db.query<{ owner_epoch: number }>(
      'UPDATE conversations SET owner_epoch = owner_epoch + 1, owner_node = $2 WHERE id = $1 RETURNING owner_epoch',
      [id, ownership.claimFor],
    );
    const row = claimed.rows[0];
    if (!row) return null;
    epoch = row.owner_epoch;
  } else {
    epoch = ownership.heldEpoch;
  }
  const conv = await db.query<ConversationRow & { max_seq: number }>(
    `SELECT ${CONVERSATION_COLUMNS},
            COALESCE((SELECT max(seq) FROM messages WHERE conversation_id = c.id), 0)::int8 AS max_seq
       FROM conversations c WHERE c.id = $1`,
    [id],
  );
  const row = conv.rows[0];
  if (!row) return null;
  const members = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM conversation_members m WHERE m.conversation_id = $1 ORDER BY m.joined_at, m.user_id`,
    [id],
  );
  const { max_seq: maxSeq, ...conversation } = row;
  const blocks = conversation.type === 'direct' ? await blocksAmong(db, members.rows.map((m) => m.user_id)) : [];
  return { row: conversation, members: members.rows, maxSeq, epoch, blocks };
}

export interface NewConversation {
  id: string;
  type: ConversationType;
  externalGroupId: string | null;
  metadata: JsonObject;
  createdAt: number;
  createdBy: string;
  /** The shard slot creating it: the conversation starts claimed by it, at owner_epoch 1 (fence.ts). */
  owner: string;
  members: { userId: string; role: MemberRole }[];
}

/** The epoch a conversation is created with, claimed by its creator. */
export const CREATED_EPOCH = 1;

/**
 * Inserts a conversation with its members and an audit entry, in the caller's
 * transaction. Returns false when a conversation with that id already exists
 * (a direct conversation created concurrently elsewhere), in which case nothing is
 * written; the caller then claims it like any other (loadConversation).
 */
export async function insertConversation(db: Queryable, conv: NewConversation): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO conversations (id, type, external_group_id, metadata, created_at, updated_at, owner_epoch, owner_node)
     VALUES ($1, $2, $3, $4, ${msToTimestamp('$5')}, ${msToTimestamp('$5')}, ${CREATED_EPOCH}, $6)
     ON CONFLICT (id) DO NOTHING`,
    [conv.id, conv.type, conv.externalGroupId, conv.metadata, conv.createdAt, conv.owner],
  );
  if (inserted.rowCount === 0) return false;
  await db.query(
    `INSERT INTO conversation_members (id, conversation_id, user_id, role, joined_at)
     SELECT u.id, $1, u.user_id, u.role, ${msToTimestamp('$5')}
       FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS u(id, user_id, role)`,
    [conv.id, conv.members.map(() => newId()), conv.members.map((m) => m.userId), conv.members.map((m) => m.role), conv.createdAt],
  );
  await db.query(
    `INSERT INTO audit_log (actor_id, conversation_id, action, details, occurred_at)
     VALUES ($1, $2, 'conversation.created', $3, ${msToTimestamp('$4')})`,
    [conv.createdBy, conv.id, { type: conv.type, members: conv.members.map((m) => m.userId) }, conv.createdAt],
  );
  return true;
}

export interface ConversationListRow extends ConversationRow {
  unread_count: number;
  last_read_seq: number;
}

/** The caller's active conversations, most recently active first, before an updated_at cursor. */
export async function listConversations(db: Queryable, userId: string, limit: number, before: number | null): Promise<ConversationListRow[]> {
  const result = await db.query<ConversationListRow>(
    `SELECT ${CONVERSATION_COLUMNS}, m.last_read_seq,
            (SELECT count(*) FROM messages x
              WHERE x.conversation_id = c.id AND x.seq > m.last_read_seq
                AND x.sender_id <> $1 AND ${countsAsUnread('x')})::int AS unread_count
       FROM conversation_members m
       JOIN conversations c ON c.id = m.conversation_id
      WHERE m.user_id = $1 AND m.is_active
        AND ($2::float8 IS NULL OR c.updated_at < ${msToTimestamp('$2')})
      ORDER BY c.updated_at DESC, c.id DESC
      LIMIT $3`,
    [userId, before, limit],
  );
  return result.rows;
}

export async function loadMembersOf(db: Queryable, conversationIds: string[]): Promise<MemberRow[]> {
  if (conversationIds.length === 0) return [];
  const result = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM conversation_members m WHERE m.conversation_id = ANY($1::uuid[]) ORDER BY m.joined_at, m.user_id`,
    [conversationIds],
  );
  return result.rows;
}
