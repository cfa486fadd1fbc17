/** Wire objects (PROTOCOL.md §4). Times are ms since the Unix epoch; ids are lowercase UUIDs. */

export type ConversationType = 'direct' | 'group';
export type MemberRole = 'admin' | 'member';
export type MessageType = 'text' | 'media' | 'system';
export type JsonObject = { [key: string]: unknown };

export interface Member {
  user_id: string;
  role: MemberRole;
  joined_at: number;
  last_read_at: number | null;
  is_active: boolean;
  /** Private: only on the caller's own member entry (PROTOCOL.md §4). */
  settings?: JsonObject;
}

export interface Conversation {
  id: string;
  type: ConversationType;
  external_group_id: string | null;
  metadata: JsonObject;
  created_at: number;
  updated_at: number;
  is_active: boolean;
  last_seq: number;
  members: Member[];
}

export interface Attachment {
  id: string;
  media_id: string;
  media_type: string;
  metadata: JsonObject;
}

export interface ReactionSummary {
  reaction: string;
  count: number;
  me: boolean;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  type: MessageType;
  content: Uint8Array;
  metadata: JsonObject;
  reply_to_id: string | null;
  client_random: number;
  sent_at: number;
  edited_at: number | null;
  is_deleted: boolean;
  delete_for_everyone: boolean;
  attachments: Attachment[];
  reactions: ReactionSummary[];
}

export interface ConversationSummary {
  conversation: Conversation;
  last_message: Message | null;
  unread_count: number;
}

export interface SyncConversation {
  conversation_id: string;
  messages: Message[];
  last_seq: number;
  complete: boolean;
}

export type ReceiptKind = 'delivered' | 'read';
