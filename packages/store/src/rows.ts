/**
 * Rows as PostgreSQL returns them (through the pool of pg.ts: timestamps are ms
 * numbers, int8 is a number) and their mapping to wire objects.
 */
import type { Conversation, JsonObject, Member, Message, MessageType } from '@whispr/protocol';

/** A conversations row: the wire object without its members. */
export type ConversationRow = Omit<Conversation, 'members'>;

/** A conversation_members row: the wire member plus what the service keeps beside it. */
export interface MemberRow extends Member {
  settings: JsonObject;
  conversation_id: string;
  last_read_seq: number;
  last_delivered_seq: number;
}

/** A messages row with its attachments and reaction summary: the wire message as PostgreSQL names it. */
export type MessageRow = Omit<Message, 'type' | 'content'> & {
  message_type: MessageType;
  content: Buffer;
};

/**
 * Columns of a message with its attachments and reaction summary. `$viewer` is
 * the placeholder of the viewing user (for reactions[].me).
 */
export const messageColumns = (alias: string, viewerParam: string): string => `
  ${alias}.id, ${alias}.conversation_id, ${alias}.seq, ${alias}.sender_id, ${alias}.reply_to_id, ${alias}.message_type,
  ${alias}.content, ${alias}.metadata, ${alias}.client_random, ${alias}.sent_at, ${alias}.edited_at,
  ${alias}.is_deleted, ${alias}.delete_for_everyone,
  COALESCE((SELECT json_agg(json_build_object('id', a.id, 'media_id', a.media_id, 'media_type', a.media_type, 'metadata', a.metadata) ORDER BY a.id)
            FROM message_attachments a WHERE a.message_id = ${alias}.id), '[]'::json) AS attachments,
  COALESCE((SELECT json_agg(json_build_object('reaction', r.reaction, 'count', r.n, 'me', r.me) ORDER BY r.reaction)
            FROM (SELECT reaction, count(*)::int AS n, bool_or(user_id = ${viewerParam}) AS me
                  FROM message_reactions WHERE message_id = ${alias}.id GROUP BY reaction) r), '[]'::json) AS reactions`;

export function toMessage(row: MessageRow): Message {
  const tombstone = row.is_deleted && row.delete_for_everyone;
  return {
    id: row.id,
    conversation_id: row.conversation_id,
    seq: row.seq,
    sender_id: row.sender_id,
    type: row.message_type,
    content: tombstone ? new Uint8Array(0) : new Uint8Array(row.content.buffer, row.content.byteOffset, row.content.byteLength),
    metadata: tombstone ? {} : row.metadata,
    reply_to_id: row.reply_to_id,
    client_random: row.client_random,
    sent_at: row.sent_at,
    edited_at: row.edited_at,
    // A sender's delete for themselves is theirs alone: the others see the message as it was (message-visibility.ts).
    is_deleted: tombstone,
    delete_for_everyone: row.delete_for_everyone,
    attachments: tombstone ? [] : row.attachments,
    reactions: tombstone ? [] : row.reactions,
  };
}

/** The wire member as `viewer` sees it: settings on their own entry only. */
export function toMember(row: MemberRow, viewer: string | null): Member {
  // Only the wire fields: the seq bookkeeping stays inside the service.
  return {
    user_id: row.user_id,
    role: row.role,
    joined_at: row.joined_at,
    last_read_at: row.last_read_at,
    is_active: row.is_active,
    ...(row.user_id === viewer ? { settings: row.settings } : {}),
  };
}

export function toConversation(row: ConversationRow, members: Member[], lastSeq: number = row.last_seq): Conversation {
  return {
    id: row.id,
    type: row.type,
    external_group_id: row.external_group_id,
    metadata: row.metadata,
    created_at: row.created_at,
    updated_at: row.updated_at,
    is_active: row.is_active,
    last_seq: lastSeq,
    members,
  };
}
