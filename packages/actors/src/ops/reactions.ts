/**
 * msg.react / msg.unreact (PROTOCOL.md §5), for every active member, on a message of
 * this conversation; idempotent (reacting twice is one row, unreacting what is
 * not there is fine), each one fenced transaction of one statement besides the
 * fence (store/reactions.ts). A `reaction` event goes to the members only when
 * something changed, after commit.
 *
 * Rules beyond membership: the reaction passes reactionProblem (protocol
 * reaction.ts: 1-10 code points, no control characters); a message deleted for
 * everyone takes no new reaction (removing one is allowed: it only takes away);
 * a user has at most MAX_REACTIONS_PER_USER distinct reactions on a message and
 * a message at most MAX_REACTIONS_PER_MESSAGE distinct ones (bad_request past
 * either: retrying would not help); in a direct conversation, a user blocked by
 * the other member cannot react (forbidden).
 */
import {
  MAX_REACTIONS_PER_MESSAGE, MAX_REACTIONS_PER_USER, badRequest, forbidden, notFound, reactionProblem, type EmptyResult, type ReactionEvent,
} from '@whispr/protocol';
import { addReaction, removeReaction, type AddReactionOutcome } from '@whispr/store';
import type { Caller, ConversationActor } from '../conversation-actor.ts';
import type { ConversationState } from '../conversation-state.ts';
import { directPeerOf } from './direct-peer.ts';
import type { ConversationOp } from './op.ts';

const NO_SUCH_MESSAGE = 'message_id: no such message in this conversation';

function checkedReaction(reaction: string): string {
  const problem = reactionProblem(reaction);
  if (problem) throw badRequest('reaction', problem);
  return reaction;
}

function refusal(outcome: Exclude<AddReactionOutcome, 'added' | 'present'>): Error {
  switch (outcome) {
    case 'missing': return notFound(NO_SUCH_MESSAGE);
    case 'tombstone': return badRequest('message_id', 'the message was deleted for everyone; it takes no new reactions');
    case 'blocked': return forbidden('the other member of this conversation has blocked you');
    case 'user_cap': return badRequest('reaction', `at most ${MAX_REACTIONS_PER_USER} distinct reactions of yours on one message; remove one first`);
    case 'message_cap': return badRequest('reaction', `this message carries ${MAX_REACTIONS_PER_MESSAGE} distinct reactions already; add one of those`);
  }
}

function announce(actor: ConversationActor, state: ConversationState, caller: Caller, messageId: string, reaction: string, added: boolean): void {
  const event: ReactionEvent = {
    ev: 'reaction', conversation_id: actor.conversationId, message_id: messageId, user_id: caller.userId, reaction, added,
  };
  actor.ctx.fanout.event(state.activeMemberIds(), event);
}

export const msgReact: ConversationOp<'msg.react'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<EmptyResult> {
    const reaction = checkedReaction(req.reaction);
    actor.checkRoom();
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const outcome = await addReaction(tx.client, {
        conversationId: actor.conversationId, messageId: req.message_id, userId: caller.userId, reaction,
        blockerId: directPeerOf(state, caller.userId), maxPerUser: MAX_REACTIONS_PER_USER, maxPerMessage: MAX_REACTIONS_PER_MESSAGE,
      });
      if (outcome === 'added') tx.onCommit(() => announce(actor, state, caller, req.message_id, reaction, true));
      else if (outcome !== 'present') throw refusal(outcome);
      return {};
    });
  },
};

export const msgUnreact: ConversationOp<'msg.unreact'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<EmptyResult> {
    const reaction = checkedReaction(req.reaction);
    actor.checkRoom();
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const outcome = await removeReaction(tx.client, { conversationId: actor.conversationId, messageId: req.message_id, userId: caller.userId, reaction });
      if (outcome === 'missing') throw notFound(NO_SUCH_MESSAGE);
      if (outcome === 'removed') tx.onCommit(() => announce(actor, state, caller, req.message_id, reaction, false));
      return {};
    });
  },
};
