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
  EmptyResult,
  HistoryResult,
  PingResult,
  PresenceResult,
  SchedCreateResult,
  SchedListResult,
  SendResult,
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

  /** Starts presence events for userIds (at most 500) and returns their current state. */
  watchPresence(userIds: string[]): Promise<PresenceResult> {
    // Unchecked: the protocol package does not validate presence ops yet, the server does.
    return this.requestUnchecked('presence.watch', { user_ids: userIds });
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
