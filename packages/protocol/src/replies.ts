/**
 * Result shapes of every operation in PROTOCOL.md §5: a successful reply minus
 * `re` and `ok`. The service's handlers return them and the SDK resolves with
 * them, so both sides share one definition. The service may add fields, never
 * remove them.
 */
import type { Conversation, ConversationSummary, JsonObject, Message, SyncConversation } from './objects.ts';

/** Replies that carry nothing beyond ok (receipts, reactions, pins, leave, delete, typing). */
export type EmptyResult = Record<never, never>;

export interface PingResult {
  server_time: number;
}

/** conv.direct, conv.group, conv.get, conv.update, conv.members.add / remove. */
export interface ConversationResult {
  conversation: Conversation;
}

export interface ConvListResult {
  conversations: ConversationSummary[];
  /** The `before` cursor for the next page (an updated_at), or null on the last page. */
  next: number | null;
}

export interface SettingsResult {
  settings: JsonObject;
}

export interface SendResult {
  message: { id: string; seq: number; sent_at: number };
  /** Present when the same (sender, client_random) had already been stored: nothing new was stored. */
  duplicate?: true;
}

export interface EditResult {
  edited_at: number;
}

export interface Pin {
  message: Message;
  pinned_by: string;
  pinned_at: number;
}

export interface PinsResult {
  pins: Pin[];
}

export interface HistoryResult {
  /** Ascending seq, ending just below before_seq (or at the newest message). */
  messages: Message[];
  has_more: boolean;
}

export interface MessageResult {
  message: Message;
}

export interface Receipt {
  user_id: string;
  delivered_at: number | null;
  read_at: number | null;
}

export interface ReceiptsResult {
  receipts: Receipt[];
}

export interface PresenceEntry {
  user_id: string;
  online: boolean;
  last_activity: number | null;
}

export interface PresenceResult {
  presence: PresenceEntry[];
}

/** A conversation of a sync that the caller may not read is answered in place, so one stale cursor does not fail the others. */
export interface SyncEntry extends SyncConversation {
  error?: { code: 'forbidden' | 'not_found'; message: string };
}

export interface SyncResult {
  conversations: SyncEntry[];
}

export interface SchedCreateResult {
  scheduled: { id: string; scheduled_for: number };
}

/** PROTOCOL.md leaves the listed fields open ("[...]"); these are the ones a client can count on. */
export interface ScheduledMessage {
  id: string;
  conversation_id: string;
  scheduled_for: number;
  [field: string]: unknown;
}

export interface SchedListResult {
  scheduled: ScheduledMessage[];
}

/** Result type by op name, for every op in PROTOCOL.md §5. */
export interface ResultMap {
  ping: PingResult;
  'conv.direct': ConversationResult;
  'conv.group': ConversationResult;
  'conv.get': ConversationResult;
  'conv.list': ConvListResult;
  'conv.update': ConversationResult;
  'conv.settings.get': SettingsResult;
  'conv.settings.set': SettingsResult;
  'member.settings.set': SettingsResult;
  'conv.members.add': ConversationResult;
  'conv.members.remove': ConversationResult;
  'conv.leave': EmptyResult;
  'msg.send': SendResult;
  'msg.edit': EditResult;
  'msg.delete': EmptyResult;
  'msg.react': EmptyResult;
  'msg.unreact': EmptyResult;
  'msg.pin': EmptyResult;
  'msg.unpin': EmptyResult;
  'conv.pins': PinsResult;
  'msg.history': HistoryResult;
  'msg.get': MessageResult;
  'msg.receipts': ReceiptsResult;
  'receipt.delivered': EmptyResult;
  'receipt.read': EmptyResult;
  typing: EmptyResult;
  'presence.watch': PresenceResult;
  'presence.unwatch': PresenceResult;
  sync: SyncResult;
  'sched.create': SchedCreateResult;
  'sched.cancel': EmptyResult;
  'sched.list': SchedListResult;
  /** Internal calls only (requests.ts INTERNAL_ONLY_OPS). */
  'internal.blocks.changed': EmptyResult;
}

/** The result of an op; ops this SDK does not know yet resolve to a plain record. */
export type ResultOf<O extends string> = O extends keyof ResultMap ? ResultMap[O] : Record<string, unknown>;
