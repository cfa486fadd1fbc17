/**
 * The internal API's message shapes (messaging.proto), as @grpc/proto-loader
 * hands them over with the options of service-definition.ts (field names as
 * written, int64 as numbers, defaults filled in, the set oneof named), and the
 * conversions from the protocol's objects.
 */
import type { Conversation as ProtocolConversation } from '@whispr/protocol';
import type { MessageMetadataRow } from '@whispr/store';

export interface CreateConversationRequest {
  acting_user_id: string;
  kind?: 'direct' | 'group';
  direct?: { other_user_id: string } | null;
  group?: { member_ids: string[]; external_group_id: string; metadata_json: string } | null;
}
export interface CreateConversationResponse {
  conversation: WireConversation;
}

export interface SyncGroupMembersRequest {
  conversation_id: string;
  member_ids: string[];
}
export interface SyncGroupMembersResponse {
  conversation: WireConversation;
  added_ids: string[];
  removed_ids: string[];
}

export interface GetMessageMetadataRequest {
  conversation_id: string;
  message_id: string;
}
export interface GetMessageMetadataResponse {
  message: WireMessageMetadata;
}

export interface SyncBlocksRequest {
  user_id: string;
  blocked_ids: string[];
}
export interface SyncBlocksResponse {
  added_ids: string[];
  removed_ids: string[];
}

export interface WireMember {
  user_id: string;
  role: string;
  joined_at: number;
  is_active: boolean;
}

export interface WireConversation {
  id: string;
  type: string;
  external_group_id: string;
  created_at: number;
  updated_at: number;
  is_active: boolean;
  last_seq: number;
  members: WireMember[];
}

export interface WireMessageMetadata {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  type: string;
  reply_to_id: string;
  sent_at: number;
  edited_at: number;
  is_deleted: boolean;
  delete_for_everyone: boolean;
  attachment_count: number;
}

/** A conversation for another service: its members without their private settings, no metadata object. */
export function wireConversation(c: ProtocolConversation): WireConversation {
  return {
    id: c.id,
    type: c.type,
    external_group_id: c.external_group_id ?? '',
    created_at: c.created_at,
    updated_at: c.updated_at,
    is_active: c.is_active,
    last_seq: c.last_seq,
    members: c.members.map((m) => ({ user_id: m.user_id, role: m.role, joined_at: m.joined_at, is_active: m.is_active })),
  };
}

export function wireMessageMetadata(m: MessageMetadataRow): WireMessageMetadata {
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    seq: m.seq,
    sender_id: m.sender_id,
    type: m.type,
    reply_to_id: m.reply_to_id ?? '',
    sent_at: m.sent_at,
    edited_at: m.edited_at ?? 0,
    is_deleted: m.is_deleted,
    delete_for_everyone: m.delete_for_everyone,
    attachment_count: m.attachment_count,
  };
}
