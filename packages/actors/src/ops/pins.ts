/**
 * msg.pin / msg.unpin / conv.pins (PROTOCOL.md §5).
 *
 * Who: every active member, in direct conversations and groups alike, may pin and
 * unpin any message of the conversation. The seed (§2.2.5) records who pinned
 * (`pinned_by`) but reserves pinning to no role, so neither does the service.
 *
 * Pinning is idempotent (a pinned message stays pinned, pinned_by and pinned_at
 * unchanged), as is unpinning. A conversation holds at most MAX_PINS pins:
 * pinning one more is bad_request naming `message_id` (the client must unpin
 * one first; retrying as is would not help). A message deleted for everyone
 * cannot be pinned (unpinning it is allowed) and is not listed. In a direct
 * conversation a user blocked by the other member cannot pin (forbidden).
 * Each write is one fenced transaction of one statement besides the fence; the
 * `pin` event goes to the members only when something changed, after commit.
 * A pin records no system message: it changes no message and takes no seq.
 */
import { MAX_PINS, badRequest, forbidden, notFound, type EmptyResult, type PinEvent, type PinsResult } from '@whispr/protocol';
import { addPin, listPins, removePin, toMessage, type AddPinOutcome } from '@whispr/store';
import { settle, type Caller, type ConversationActor } from '../conversation-actor.ts';
import type { ConversationState } from '../conversation-state.ts';
import { directPeerOf } from './direct-peer.ts';
import type { ConversationOp } from './op.ts';

const NO_SUCH_MESSAGE = 'message_id: no such message in this conversation';

function refusal(outcome: Exclude<AddPinOutcome, 'pinned' | 'present'>): Error {
  switch (outcome) {
    case 'missing': return notFound(NO_SUCH_MESSAGE);
    case 'tombstone': return badRequest('message_id', 'the message was deleted for everyone; it cannot be pinned');
    case 'blocked': return forbidden('the other member of this conversation has blocked you');
    case 'full': return badRequest('message_id', `this conversation has ${MAX_PINS} pinned messages already; unpin one first`);
  }
}

function announce(actor: ConversationActor, state: ConversationState, caller: Caller, messageId: string, pinned: boolean): void {
  const event: PinEvent = { ev: 'pin', conversation_id: actor.conversationId, message_id: messageId, user_id: caller.userId, pinned };
  actor.ctx.fanout.event(state.activeMemberIds(), event);
}

export const msgPin: ConversationOp<'msg.pin'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<EmptyResult> {
    actor.checkRoom();
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const outcome = await addPin(tx.client, {
        conversationId: actor.conversationId, messageId: req.message_id, userId: caller.userId,
        blockerId: directPeerOf(state, caller.userId), maxPins: MAX_PINS,
      });
      if (outcome === 'pinned') tx.onCommit(() => announce(actor, state, caller, req.message_id, true));
      else if (outcome !== 'present') throw refusal(outcome);
      return {};
    });
  },
};

export const msgUnpin: ConversationOp<'msg.unpin'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller, req): Promise<EmptyResult> {
    actor.checkRoom();
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const outcome = await removePin(tx.client, { conversationId: actor.conversationId, messageId: req.message_id, userId: caller.userId });
      if (outcome === 'missing') throw notFound(NO_SUCH_MESSAGE);
      if (outcome === 'unpinned') tx.onCommit(() => announce(actor, state, caller, req.message_id, false));
      return {};
    });
  },
};

/**
 * Any active member: every pin (at most MAX_PINS), most recently pinned first,
 * each with its message as the caller sees it. Read once the writes handed over
 * before it have committed, outside the conversation's line (like msg.history).
 */
export const convPins: ConversationOp<'conv.pins'> = {
  scope: 'conversation',
  access: 'member',
  async run(actor, caller): Promise<PinsResult> {
    const barrier = await actor.serial(async () => {
      await actor.memberState(caller.userId);
      return { pending: actor.lastWrite };
    });
    await settle(barrier.pending);
    const rows = await listPins(actor.ctx.pg, actor.conversationId, caller.userId, MAX_PINS);
    return { pins: rows.map((row) => ({ message: toMessage(row), pinned_by: row.pinned_by, pinned_at: row.pinned_at })) };
  },
};
