/**
 * An actor's exclusive write (ConversationActor.exclusive): one PostgreSQL
 * transaction, run in the conversation's line after every write handed over
 * before it has committed, for the changes that are not message sends or
 * receipts (edits, deletes, reactions, pins, members, settings).
 *
 * - It starts with the ownership fence (store/fence.ts): if another node has
 *   claimed the conversation, nothing of it commits and the client hears
 *   `unavailable` (its retry reaches the new owner).
 * - A system message recording the change takes the next seq inside it
 *   (store/system-messages.ts): the seqs handed out so far are all committed.
 * - Memory changes and events are registered with `onCommit` and run only after
 *   COMMIT returns: a change nobody can read back is never announced.
 * - A row PostgreSQL refuses for its content is `bad_request`; a connection or
 *   server failure is `unavailable` (PROTOCOL.md §3).
 */
import type pg from 'pg';
import { WhisprError, ErrorCode, badRequest, unavailable, type JsonObject, type Message } from '@whispr/protocol';
import { checkFence, insertSystemMessage, isFenced, isRowLevel, reasonOf } from '@whispr/store';
import type { Caller, ConversationActor } from './conversation-actor.ts';
import type { ConversationState } from './conversation-state.ts';

export class ExclusiveTx {
  private readonly committed: Array<() => void> = [];
  private nextSeq: number;

  constructor(
    readonly client: pg.PoolClient,
    private readonly actor: ConversationActor,
    readonly caller: Caller,
  ) {
    this.nextSeq = actor.lastSeq + 1;
  }

  get conversationId(): string {
    return this.actor.conversationId;
  }

  /** Runs after the transaction committed (memory updates, events), in registration order. */
  onCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  /**
   * Records the change as a system message with the next seq (metadata says what
   * happened; `by` is the caller), published after commit as msg.new to
   * `recipients` (and queued for those connected nowhere).
   */
  async systemMessage(action: string, details: JsonObject, recipients: string[]): Promise<Message> {
    const seq = this.nextSeq++;
    const message = await insertSystemMessage(this.client, {
      conversationId: this.actor.conversationId, seq, metadata: { action, by: this.caller.userId, ...details }, sentAt: Date.now(),
    });
    this.onCommit(() => {
      this.actor.lastSeq = Math.max(this.actor.lastSeq, seq);
      this.actor.committedSeq = Math.max(this.actor.committedSeq, seq);
      // Sent by the conversation: every recipient may need it queued.
      this.actor.ctx.fanout.messageCommitted(message, recipients, message.sender_id);
    });
    return message;
  }

  /** Commit hooks, once COMMIT has returned. */
  runCommitted(): void {
    for (const fn of this.committed) fn();
  }
}

export async function runExclusive<T>(
  actor: ConversationActor,
  state: ConversationState,
  caller: Caller,
  work: (tx: ExclusiveTx, state: ConversationState) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await actor.ctx.pg.connect();
  } catch (err) {
    throw unavailable('PostgreSQL cannot be reached now; retry', { cause: err });
  }
  const tx = new ExclusiveTx(client, actor, caller);
  let result: T;
  try {
    await client.query('BEGIN');
    await checkFence(client, [[actor.conversationId], [actor.epoch]]);
    result = await work(tx, state);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined /* the original error is what matters; the connection is dropped below */);
    client.release(err instanceof WhisprError ? undefined : true);
    throw mapWriteError(actor, err);
  }
  client.release();
  tx.runCommitted();
  return result;
}

function mapWriteError(actor: ConversationActor, err: unknown): unknown {
  if (err instanceof WhisprError) return err;
  if (isFenced(err)) {
    actor.fenced();
    return unavailable('another node has claimed this conversation; retry', { cause: err });
  }
  if (isRowLevel(err)) return badRequest('', `the database refused this request: ${reasonOf(err)}`);
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  // No SQLSTATE (a dropped connection) or one of the server's transient classes: safe to retry.
  if (code === undefined || (typeof code === 'string' && /^(08|53|57|58|40)/.test(code))) return unavailable('the write could not be committed; retry', { cause: err });
  return new WhisprError(ErrorCode.Internal, 'the write failed', {}, { cause: err });
}
