/**
 * retention.expire and conv.archive: the maintenance jobs' writes (docs/retention.md),
 * internal only (protocol INTERNAL_ONLY_OPS: a socket naming them is answered
 * as for an unknown op) and for the service principal only.
 *
 * They run as the conversation's owner, in its line, each as one short fenced
 * transaction (actor.exclusive): the line is held for one bounded window only,
 * and live sends queued behind it go on between one batch and the next. No
 * system message is written: retention and archival take no seq.
 */
import { forbidden, RETENTION_BATCH_MAX, type MsgDeletedEvent } from '@whispr/protocol';
import { archiveIfInactive, expireWindow } from '@whispr/store';
import type { Caller } from '../conversation-actor.ts';
import type { ConversationOp } from './op.ts';

function serviceOnly(caller: Caller, op: string): void {
  if (caller.kind !== 'service') throw forbidden(`${op} is run by the service itself only`);
}

/**
 * One window of seqs: expired messages become tombstones (PROTOCOL.md §4) and
 * attachments past the media retention are removed. After commit, the active
 * members get msg.deleted (for_everyone) for each tombstone, wherever they are
 * connected; the actor keeps no message content, so its memory needs no change.
 */
export const retentionExpire: ConversationOp<'retention.expire'> = {
  scope: 'conversation',
  access: 'admin',
  run: async (actor, caller, req) => {
    serviceOnly(caller, req.op);
    const limit = Math.min(req.limit, RETENTION_BATCH_MAX);
    return actor.exclusive(caller, 'admin', async (tx, state) => {
      const window = await expireWindow(tx.client, {
        conversationId: actor.conversationId, afterSeq: req.after_seq, limit, before: req.before, mediaBefore: req.media_before,
      });
      const nextAfterSeq = req.after_seq + limit;
      if (window.expired.length > 0) {
        const members = state.activeMemberIds();
        tx.onCommit(() => {
          const events = window.expired.map((m): MsgDeletedEvent => ({ ev: 'msg.deleted', conversation_id: actor.conversationId, message_id: m.id, seq: m.seq, for_everyone: true }));
          const seqs = window.expired.map((m) => m.seq);
          // Offline members must not get an expired message's content from their queue.
          actor.ctx.fanout.messagesChanged(members, events, actor.conversationId, Math.min(...seqs), Math.max(...seqs));
        });
      }
      return {
        expired: window.expired.length,
        media_removed: window.mediaRemoved,
        next_after_seq: nextAfterSeq,
        done: window.reachedLive || window.scanned < limit || nextAfterSeq >= actor.committedSeq,
      };
    });
  },
};

/**
 * Archives the conversation (seed §11.2) if, in its line, it is still without
 * activity since inactive_before: a message committed just before this runs
 * keeps it active. After commit the actor reloads it on its next request (the
 * row is now inactive), so memory and PostgreSQL agree.
 */
export const convArchive: ConversationOp<'conv.archive'> = {
  scope: 'conversation',
  access: 'admin',
  run: async (actor, caller, req) => {
    serviceOnly(caller, req.op);
    return actor.exclusive(caller, 'admin', async (tx) => {
      const archived = await archiveIfInactive(tx.client, actor.conversationId, req.inactive_before);
      if (archived) tx.onCommit(() => actor.invalidate());
      return { archived };
    });
  },
};
