/** Reply and event envelopes (PROTOCOL.md §3, §6). */
import type { ErrorBody } from './errors.ts';
import type { Bounds, Limits } from './limits.ts';
import type { Conversation, JsonObject, Message, ReceiptKind } from './objects.ts';
import type { RequestId } from './requests.ts';

export interface OkReply {
  re: RequestId | null;
  ok: true;
  [field: string]: unknown;
}
export interface ErrorReply {
  re: RequestId | null;
  ok: false;
  error: ErrorBody;
}
export type Reply = OkReply | ErrorReply;

export interface HelloEvent {
  ev: 'hello';
  user_id: string;
  session_id: string;
  node: string;
  server_time: number;
  limits: Limits & Bounds;
}
export interface MsgNewEvent {
  ev: 'msg.new';
  message: Message;
}
export interface ReceiptEvent {
  ev: 'receipt';
  conversation_id: string;
  user_id: string;
  kind: ReceiptKind;
  up_to_seq: number;
  at: number;
}
export interface ConvUpdatedEvent {
  ev: 'conv.updated';
  conversation: Conversation;
}
export interface MsgEditedEvent {
  ev: 'msg.edited';
  conversation_id: string;
  message_id: string;
  seq: number;
  content: Uint8Array;
  metadata: JsonObject;
  edited_at: number;
}
export interface MsgDeletedEvent {
  ev: 'msg.deleted';
  conversation_id: string;
  message_id: string;
  seq: number;
  for_everyone: boolean;
}
export interface ReactionEvent {
  ev: 'reaction';
  conversation_id: string;
  message_id: string;
  user_id: string;
  reaction: string;
  added: boolean;
}
export interface PinEvent {
  ev: 'pin';
  conversation_id: string;
  message_id: string;
  user_id: string;
  pinned: boolean;
}
export interface TypingEvent {
  ev: 'typing';
  conversation_id: string;
  user_id: string;
  state: 'start' | 'stop';
}
export interface PresenceEvent {
  ev: 'presence';
  user_id: string;
  online: boolean;
  last_activity: number | null;
}
export type ServerEvent =
  | HelloEvent | MsgNewEvent | MsgEditedEvent | MsgDeletedEvent | ReactionEvent | PinEvent | ReceiptEvent | TypingEvent | ConvUpdatedEvent | PresenceEvent;
