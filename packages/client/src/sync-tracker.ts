/**
 * Per-conversation bookkeeping of which messages a client has, so that it can
 * drop duplicates (delivery is at-least-once: the same (conversation_id, seq) may
 * arrive from the offline queue, a live msg.new and a sync) and catch up after a
 * reconnect with `sync`.
 *
 * The sync cursor is not simply the highest seq seen: after a reconnect a live
 * msg.new (seq 10) can arrive before the sync that brings 6..9, and resuming from
 * 10 would lose them. So the tracker keeps the seq up to which nothing is missing
 * (`cursor`) apart from the seqs seen above it.
 */
import { SYNC_CURSORS_MAX, type Message } from '@whispr/protocol';
import type { SyncCursor } from './client.ts';
import type { SyncResult } from '@whispr/protocol';

export interface MessageKey {
  conversation_id: string;
  seq: number;
}

/** What catchUp needs from a client: WhisprClient fits. */
export interface SyncSource {
  sync(cursors: SyncCursor[], limit?: number): Promise<SyncResult>;
}

interface ConversationState {
  /** Every seq up to here is accounted for (seen, or deliberately skipped). */
  cursor: number;
  /** Seqs seen above the cursor, waiting for the gap below them to fill. */
  above: Set<number>;
  highest: number;
}

export interface AbsorbResult {
  /** Messages not seen before, in the order of the reply. */
  messages: Message[];
  /** Conversations that need another round (complete: false). */
  incomplete: string[];
}

export class SyncTracker {
  private readonly conversations = new Map<string, ConversationState>();

  /**
   * Declares every message up to upToSeq as already had (from storage, or not
   * wanted: e.g. read ones older than the unread count). Never moves backwards.
   */
  seed(conversationId: string, upToSeq: number): void {
    this.cover(conversationId, upToSeq);
  }

  /** Records a message. Returns true when it is new, false for a duplicate. */
  observe(message: MessageKey): boolean {
    const state = this.state(message.conversation_id);
    if (message.seq <= state.cursor || state.above.has(message.seq)) return false;
    state.highest = Math.max(state.highest, message.seq);
    if (message.seq === state.cursor + 1) {
      state.cursor = message.seq;
      this.drain(state);
    } else {
      state.above.add(message.seq);
    }
    return true;
  }

  /** Records messages and returns the new ones, in their order. */
  observeAll<M extends MessageKey>(messages: readonly M[]): M[] {
    return messages.filter((message) => this.observe(message));
  }

  /**
   * Marks everything up to upToSeq as accounted for. Used when the server says a
   * range is complete: seqs in it that never arrived are messages hidden from
   * this user (deleted for themselves), and waiting for them would stall the cursor.
   */
  cover(conversationId: string, upToSeq: number): void {
    const state = this.state(conversationId);
    if (upToSeq <= state.cursor) return;
    state.cursor = upToSeq;
    state.highest = Math.max(state.highest, upToSeq);
    for (const seq of state.above) if (seq <= upToSeq) state.above.delete(seq);
    this.drain(state);
  }

  /** Whether the conversation has been seeded or seen at all. */
  tracks(conversationId: string): boolean {
    return this.conversations.has(conversationId);
  }

  has(key: MessageKey): boolean {
    const state = this.conversations.get(key.conversation_id);
    return state !== undefined && (key.seq <= state.cursor || state.above.has(key.seq));
  }

  /** The highest seq seen or covered in the conversation (0 when none). */
  highestSeq(conversationId: string): number {
    return this.conversations.get(conversationId)?.highest ?? 0;
  }

  /** The seq up to which nothing is missing: where the next sync starts. */
  cursor(conversationId: string): number {
    return this.conversations.get(conversationId)?.cursor ?? 0;
  }

  conversationIds(): string[] {
    return [...this.conversations.keys()];
  }

  cursors(conversationIds: Iterable<string> = this.conversations.keys()): SyncCursor[] {
    return [...conversationIds].map((id) => ({ conversation_id: id, after_seq: this.cursor(id) }));
  }

  /**
   * Applies one sync reply. A conversation reported complete is covered up to its
   * last_seq; an incomplete one up to the last seq returned, where the next round starts.
   */
  absorb(result: SyncResult): AbsorbResult {
    const messages: Message[] = [];
    const incomplete: string[] = [];
    for (const conversation of result.conversations) {
      messages.push(...this.observeAll(conversation.messages));
      const last = conversation.messages.at(-1);
      if (conversation.complete) {
        this.cover(conversation.conversation_id, conversation.last_seq);
      } else if (last !== undefined) {
        this.cover(conversation.conversation_id, last.seq);
        incomplete.push(conversation.conversation_id);
      }
      // Incomplete with no messages cannot make progress; asking again would loop forever.
    }
    return { messages, incomplete };
  }

  /**
   * Calls sync until every tracked conversation (or those given) is complete and
   * returns the messages not seen before, in (conversation, seq) order per round.
   * Use it after a reconnect; messages that also arrive live are dropped by observe().
   */
  async catchUp(client: SyncSource, options: { limit?: number; conversationIds?: Iterable<string> } = {}): Promise<Message[]> {
    const gathered: Message[] = [];
    let pending = [...(options.conversationIds ?? this.conversations.keys())];
    while (pending.length > 0) {
      const rounds: Promise<SyncResult>[] = [];
      for (let i = 0; i < pending.length; i += SYNC_CURSORS_MAX) {
        rounds.push(client.sync(this.cursors(pending.slice(i, i + SYNC_CURSORS_MAX)), options.limit));
      }
      const next: string[] = [];
      for (const result of await Promise.all(rounds)) {
        const absorbed = this.absorb(result);
        gathered.push(...absorbed.messages);
        next.push(...absorbed.incomplete);
      }
      pending = next;
    }
    return gathered;
  }

  private state(conversationId: string): ConversationState {
    let state = this.conversations.get(conversationId);
    if (state === undefined) {
      state = { cursor: 0, above: new Set(), highest: 0 };
      this.conversations.set(conversationId, state);
    }
    return state;
  }

  /** Moves the cursor over seqs already seen just above it. */
  private drain(state: ConversationState): void {
    while (state.above.delete(state.cursor + 1)) state.cursor += 1;
  }
}
