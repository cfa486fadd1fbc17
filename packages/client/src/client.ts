/**
 * WhisprClient: a connection plus one typed method per everyday operation.
 * Anything else goes through `request(op, fields)`.
 */
import { ErrorCode, type JsonObject, type RequestOf } from '@whispr/protocol';
import { Connection, type ConnectOptions } from './connection.ts';
import { contentBytes, randomClientRandom } from './content.ts';
import { WhisprRequestError } from './errors.ts';
import type {
  ConvListResult,
  ConversationResult,
  EditResult,
  EmptyResult,
  HistoryResult,
  MessageResult,
  PingResult,
  PinsResult,
  ReceiptsResult,
  PresenceResult,
  SchedCreateResult,
  SchedListResult,
  SendResult,
  SettingsResult,
  SyncResult,
} from '@whispr/protocol';

export interface SendOptions {
  /** Bytes, or a string sent as UTF-8. */
  content: Uint8Array | string;
  /** Default 'text'. */
  type?: 'text' | 'media';
  /**
   * The idempotency key (int32). Default: a fresh random one. Pass your own to be
   * able to retry after `unavailable`, a timeout or a dropped connection: the retry
   * then returns the first message's reply with `duplicate: true` instead of storing twice.
   */
  clientRandom?: number;
  metadata?: JsonObject;
  replyToId?: string | null;
  attachments?: RequestOf<'msg.send'>['attachments'];
}

/** `{conversation_id, after_seq}`: the reply starts just after after_seq. */
export type SyncCursor = RequestOf<'sync'>['cursors'][number];

/** Fresh client_random values tried after a collision before giving up. */
const CONFLICT_RETRIES = 3;

export class WhisprClient extends Connection {
  /** Opens a connection and resolves once the server's hello has arrived (see `client.hello`). */
  static async connect(options: ConnectOptions): Promise<WhisprClient> {
    const client = new WhisprClient(options);
    await client.opened;
    return client;
  }

  /**
   * Sends a message. With an SDK-chosen client_random a `conflict` can only mean
   * the random value collided with an older message of this sender ((sender,
   * client_random) is unique forever, and over tens of thousands of messages a
   * 32-bit collision becomes likely), so the send is retried with a new value,
   * at most CONFLICT_RETRIES times. With the caller's own clientRandom a conflict is reported.
   */
  async send(conversationId: string, options: SendOptions): Promise<SendResult> {
    const fields = {
      conversation_id: conversationId,
      type: options.type ?? 'text',
      content: contentBytes(options.content),
      metadata: options.metadata,
      reply_to_id: options.replyToId,
      attachments: options.attachments,
    };
    if (options.clientRandom !== undefined) return this.request('msg.send', { ...fields, client_random: options.clientRandom });
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request('msg.send', { ...fields, client_random: randomClientRandom() });
      } catch (err) {
        if (!(err instanceof WhisprRequestError && err.code === ErrorCode.Conflict) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** The direct conversation with userId; the same one whoever asks. */
  direct(userId: string): Promise<ConversationResult> {
    return this.request('conv.direct', { user_id: userId });
  }

  /** A new group with the caller (as admin) and userIds. */
  group(userIds: string[], metadata?: JsonObject): Promise<ConversationResult> {
    return this.request('conv.group', { user_ids: userIds, metadata });
  }

  get(conversationId: string): Promise<ConversationResult> {
    return this.request('conv.get', { conversation_id: conversationId });
  }

  /** Conversations, most recently active first; pass `next` of one page as `before` of the next. */
  list(options: { limit?: number; before?: number | null } = {}): Promise<ConvListResult> {
    return this.request('conv.list', { limit: options.limit, before: options.before });
  }

  /** Messages in ascending seq, ending just below beforeSeq (or at the newest). */
  history(conversationId: string, options: { beforeSeq?: number | null; limit?: number } = {}): Promise<HistoryResult> {
    return this.request('msg.history', {
      conversation_id: conversationId,
      before_seq: options.beforeSeq,
      limit: options.limit,
    });
  }

  /** Replaces the content (and metadata, {} when omitted) of one of your own messages; msg.edited reaches every member. */
  editMessage(conversationId: string, messageId: string, options: { content: Uint8Array | string; metadata?: JsonObject }): Promise<EditResult> {
    return this.request('msg.edit', { conversation_id: conversationId, message_id: messageId, content: contentBytes(options.content), metadata: options.metadata });
  }

  /**
   * Deletes one of your own messages: for everyone (a tombstone every member sees), or
   * by default for yourself alone (hidden from your history and sync, still there for the others).
   */
  deleteMessage(conversationId: string, messageId: string, options: { forEveryone?: boolean } = {}): Promise<EmptyResult> {
    return this.request('msg.delete', { conversation_id: conversationId, message_id: messageId, for_everyone: options.forEveryone ?? false });
  }

  /** One message of the conversation, as you see it. */
  getMessage(conversationId: string, messageId: string): Promise<MessageResult> {
    return this.request('msg.get', { conversation_id: conversationId, message_id: messageId });
  }

  /** Delivery and read times of a message, per recipient. */
  receipts(conversationId: string, messageId: string): Promise<ReceiptsResult> {
    return this.request('msg.receipts', { conversation_id: conversationId, message_id: messageId });
  }

  /** One round of sync; SyncTracker.catchUp repeats it until every conversation is complete. */
  sync(cursors: SyncCursor[], limit?: number): Promise<SyncResult> {
    return this.request('sync', { cursors, limit });
  }

  /** Marks every message up to upToSeq (not the caller's own) delivered; also empties them from the offline queue. */
  markDelivered(conversationId: string, upToSeq: number): Promise<EmptyResult> {
    return this.request('receipt.delivered', { conversation_id: conversationId, up_to_seq: upToSeq });
  }

  /** Marks every message up to upToSeq read (which implies delivered). */
  markRead(conversationId: string, upToSeq: number): Promise<EmptyResult> {
    return this.request('receipt.read', { conversation_id: conversationId, up_to_seq: upToSeq });
  }

  /**
   * Adds the caller's reaction (1-10 Unicode code points, no control characters) to a message;
   * reacting again with the same one changes nothing. Members hear a `reaction` event.
   */
  react(conversationId: string, messageId: string, reaction: string): Promise<EmptyResult> {
    return this.request('msg.react', { conversation_id: conversationId, message_id: messageId, reaction });
  }

  /** Removes the caller's reaction; removing one that is not there is not an error. */
  unreact(conversationId: string, messageId: string, reaction: string): Promise<EmptyResult> {
    return this.request('msg.unreact', { conversation_id: conversationId, message_id: messageId, reaction });
  }

  /** Pins a message of the conversation (any member may); pinning it again changes nothing. */
  pin(conversationId: string, messageId: string): Promise<EmptyResult> {
    return this.request('msg.pin', { conversation_id: conversationId, message_id: messageId });
  }

  /** Unpins a message; unpinning one that is not pinned is not an error. */
  unpin(conversationId: string, messageId: string): Promise<EmptyResult> {
    return this.request('msg.unpin', { conversation_id: conversationId, message_id: messageId });
  }

  /** The conversation's pinned messages, most recently pinned first. */
  pins(conversationId: string): Promise<PinsResult> {
    return this.request('conv.pins', { conversation_id: conversationId });
  }

  /**
   * Says the caller started or stopped typing in the conversation. Repeat 'start'
   * while typing (a start lapses after 5 s: the server then sends 'stop' itself).
   */
  typing(conversationId: string, state: 'start' | 'stop'): Promise<EmptyResult> {
    return this.request('typing', { conversation_id: conversationId, state });
  }

  /**
   * Starts `presence` events for userIds (at most hello.limits.max_presence_watch per
   * call, max_presence_watched on the connection in all) and returns their current state.
   * Watches belong to this connection: after a reconnect, watch again.
   */
  watchPresence(userIds: string[]): Promise<PresenceResult> {
    return this.request('presence.watch', { user_ids: userIds });
  }

  /** Stops `presence` events for userIds; returns their current state as watching did. */
  unwatchPresence(userIds: string[]): Promise<PresenceResult> {
    return this.request('presence.unwatch', { user_ids: userIds });
  }

  /** Adds users to a group (admins only); re-adds removed ones. A `system` message records it. */
  addMembers(conversationId: string, userIds: string[]): Promise<ConversationResult> {
    return this.request('conv.members.add', { conversation_id: conversationId, user_ids: userIds });
  }

  /** Removes users from a group (admins only; not yourself: use leave). A `system` message records it. */
  removeMembers(conversationId: string, userIds: string[]): Promise<ConversationResult> {
    return this.request('conv.members.remove', { conversation_id: conversationId, user_ids: userIds });
  }

  /** Leaves a group (a direct conversation cannot be left). A `system` message records it. */
  leave(conversationId: string): Promise<EmptyResult> {
    return this.request('conv.leave', { conversation_id: conversationId });
  }

  /** Replaces the conversation's metadata (admins only). */
  updateConversation(conversationId: string, metadata: JsonObject): Promise<ConversationResult> {
    return this.request('conv.update', { conversation_id: conversationId, metadata });
  }

  /** The conversation's settings (any member). */
  getSettings(conversationId: string): Promise<SettingsResult> {
    return this.request('conv.settings.get', { conversation_id: conversationId });
  }

  /** Merges into the conversation's settings (admins only). */
  setSettings(conversationId: string, settings: JsonObject): Promise<SettingsResult> {
    return this.request('conv.settings.set', { conversation_id: conversationId, settings });
  }

  /** Merges into your own member settings (e.g. {muted_until}); nobody else sees them. */
  setMemberSettings(conversationId: string, settings: JsonObject): Promise<SettingsResult> {
    return this.request('member.settings.set', { conversation_id: conversationId, settings });
  }

  /**
   * Schedules a message for `scheduledFor` (ms since the epoch, at least 1 s
   * ahead); it then arrives as an ordinary msg.new with this client_random.
   * Idempotent per clientRandom (default: a fresh random one; pass your own to retry safely).
   */
  scheduleMessage(conversationId: string, scheduledFor: number, options: Omit<SendOptions, 'replyToId' | 'attachments'>): Promise<SchedCreateResult> {
    return this.request('sched.create', {
      conversation_id: conversationId,
      scheduled_for: scheduledFor,
      client_random: options.clientRandom ?? randomClientRandom(),
      type: options.type ?? 'text',
      content: contentBytes(options.content),
      metadata: options.metadata,
    });
  }

  /** Cancels one of the caller's pending scheduled messages. */
  cancelScheduled(conversationId: string, scheduledId: string): Promise<EmptyResult> {
    return this.request('sched.cancel', { conversation_id: conversationId, scheduled_id: scheduledId });
  }

  /** The caller's pending scheduled messages, soonest first (of one conversation, or all). */
  listScheduled(conversationId?: string): Promise<SchedListResult> {
    return this.request('sched.list', { conversation_id: conversationId });
  }

  ping(): Promise<PingResult> {
    return this.request('ping', {});
  }
}
