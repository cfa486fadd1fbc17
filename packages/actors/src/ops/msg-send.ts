/**
 * msg.send (PROTOCOL.md §5), for every active member. Content and metadata within the
 * limits; a reply_to_id names a message of this conversation. Idempotent by
 * (sender, client_random): a retry gets the first reply with duplicate: true, a
 * different message under the same key `conflict`. The write is handed to the
 * group-commit writer (the line is not held while it commits); the reply comes
 * after commit, then msg.new goes to every member.
 */
import { conflict, forbidden, tooLarge, type Message, type SendResult } from '@whispr/protocol';
import type { SendOutcome } from '@whispr/store';
import { contentDigest, type RecentSend } from '../recent-sends.ts';
import { notifies } from '../muting.ts';
import { checkMessageSize } from './message-limits.ts';
import type { ConversationOp } from './op.ts';
import { checkScheduledSend } from './scheduled-send.ts';

export const msgSend: ConversationOp<'msg.send'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<SendResult> {
    const { limits } = actor.ctx;
    const metadata = checkMessageSize(limits, req.content, req.metadata);
    (req.attachments ?? []).forEach((a, i) => {
      if (a.metadata && Buffer.byteLength(JSON.stringify(a.metadata)) > limits.max_metadata_bytes) {
        throw tooLarge(`attachments.${i}.metadata`, `over ${limits.max_metadata_bytes} bytes`);
      }
    });
    const digest = contentDigest(req.content);

    const handed = await actor.serial(async () => {
      const state = await actor.memberState(caller.userId);
      // A direct conversation's blocks are in memory (conversation-state.ts): no query on the hot path.
      if (state.blockedSenders.has(caller.userId)) throw forbidden('blocked: the other member does not accept your messages');
      const prior = actor.recent.get(caller.userId, req.client_random);
      if (prior) return { kind: 'repeat' as const, prior };
      actor.checkRoom();
      if (req.reply_to_id) await actor.checkReplyTarget(req.reply_to_id);
      if (req.scheduled_id) await checkScheduledSend(actor, caller, req, req.scheduled_id);
      const members = state.activeMemberIds();
      const outcome = actor.ctx.writer.send({
        counter: actor,
        senderId: caller.userId,
        clientRandom: req.client_random,
        type: req.type,
        content: req.content,
        metadata,
        replyToId: req.reply_to_id ?? null,
        attachments: (req.attachments ?? []).map((a) => ({ media_id: a.media_id, media_type: a.media_type, metadata: a.metadata ?? {} })),
        recipients: members.filter((u) => u !== caller.userId),
        scheduledId: req.scheduled_id ?? null,
      });
      const entry: RecentSend = { digest, outcome: actor.track(outcome) };
      actor.recent.set(caller.userId, req.client_random, entry);
      // Mutes are read when the fan-out finds a recipient offline, not per member per send.
      return { kind: 'new' as const, entry, members, notifiable: (userId: string) => notifies(state, userId, Date.now()) };
    });

    if (handed.kind === 'repeat') {
      if (handed.prior.digest !== digest) throw conflict('client_random already used by this sender for a different message');
      const first = await actor.awaitCommit(handed.prior.outcome);
      if (first.kind === 'conflict') throw conflict('client_random already used by this sender for a different message');
      return { message: { id: first.id, seq: first.seq, sent_at: first.sentAt }, duplicate: true };
    }

    let outcome: SendOutcome;
    try {
      outcome = await actor.awaitCommit(handed.entry.outcome);
    } catch (err) {
      actor.recent.delete(caller.userId, req.client_random, handed.entry);
      throw err;
    }
    switch (outcome.kind) {
      case 'conflict':
        actor.recent.delete(caller.userId, req.client_random, handed.entry);
        throw conflict(
          outcome.existingConversationId === actor.conversationId
            ? 'client_random already used by this sender for a different message'
            : 'client_random already used by this sender in another conversation',
        );
      case 'duplicate':
        return { message: { id: outcome.id, seq: outcome.seq, sent_at: outcome.sentAt }, duplicate: true };
      case 'stored': {
        if (actor.loadedState) actor.loadedState.row.updated_at = Math.max(actor.loadedState.row.updated_at, outcome.sentAt);
        const message: Message = {
          id: outcome.id,
          conversation_id: actor.conversationId,
          seq: outcome.seq,
          sender_id: caller.userId,
          type: req.type,
          content: req.content,
          metadata,
          reply_to_id: req.reply_to_id ?? null,
          client_random: req.client_random,
          sent_at: outcome.sentAt,
          edited_at: null,
          is_deleted: false,
          delete_for_everyone: false,
          attachments: (req.attachments ?? []).map((a, i) => ({
            id: outcome.attachmentIds[i] ?? '',
            media_id: a.media_id,
            media_type: a.media_type,
            metadata: a.metadata ?? {},
          })),
          reactions: [],
        };
        actor.knownMessages.add(outcome.id);
        actor.ctx.fanout.messageCommitted(message, handed.members, caller.userId, handed.notifiable);
        return { message: { id: outcome.id, seq: outcome.seq, sent_at: outcome.sentAt } };
      }
    }
  },
};
