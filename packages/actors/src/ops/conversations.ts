/**
 * conv.direct, conv.group (create) and conv.get: opening or creating a
 * conversation and reading it from the actor's memory.
 */
import { ErrorCode, WhisprError, badRequest, forbidden, tooLarge, type JsonObject } from '@whispr/protocol';
import { blockersOf, directConversationId } from '@whispr/store';
import type { ConversationOp, CreateOp } from './op.ts';

/** Any active member; the answer shows the caller's own member settings only. */
export const convGet: ConversationOp<'conv.get'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller) => actor.read(caller, 'member', async (state) => ({ conversation: actor.conversation(state, caller.userId) })),
};

/**
 * Anyone, with anyone but themselves, unless that user blocks the caller
 * (user_blocks: forbidden, whether the conversation exists yet or not). The actor's id is derived from the pair,
 * so concurrent creators on any node meet at the same actor.
 */
export const convDirect: CreateOp<'conv.direct'> = {
  scope: 'create',
  run: async (actor, caller, req) => {
    const other = req.user_id;
    if (other === caller.userId) throw badRequest('user_id', 'must not be the caller’s own id');
    // Conversations are created only at ids the server derives: this actor must be the pair's.
    if (directConversationId(caller.userId, other) !== actor.conversationId) throw new WhisprError(ErrorCode.Internal, 'direct conversation opened at an id that is not its pair’s');
    return actor.serial(async () => {
      let state = await actor.ensureLoaded();
      let created = false;
      if (!state) {
        if ((await blockersOf(actor.ctx.pg, caller.userId, [other])).length > 0) throw forbidden(`blocked: ${other} does not accept a conversation with you`);
        created = await actor.create({
          type: 'direct', metadata: {}, externalGroupId: null, createdBy: caller.userId,
          members: [{ userId: caller.userId, role: 'member' }, { userId: other, role: 'member' }],
        });
        state = await actor.ensureLoaded();
        if (!state) throw new WhisprError(ErrorCode.Internal, 'direct conversation vanished after creation');
      }
      if (!state.isDirectOf(caller.userId, other)) {
        // Only data written before ids were derived server-side can get here; never hand it out.
        actor.ctx.logger.error({ conversation: actor.conversationId, type: state.row.type }, 'the id of a direct pair holds another conversation');
        throw new WhisprError(ErrorCode.Internal, 'this pair’s direct conversation id is taken by another conversation');
      }
      if (!state.isActiveMember(caller.userId)) throw forbidden('not an active member of this conversation');
      if (state.blockedSenders.has(caller.userId)) throw forbidden(`blocked: ${other} does not accept a conversation with you`);
      if (created) actor.ctx.fanout.event([other], { ev: 'conv.updated', conversation: actor.conversation(state, null) });
      return { conversation: actor.conversation(state, caller.userId) };
    });
  },
};

/** Anyone, with users who do not block the creator (forbidden naming them); the creator becomes its admin. The gateway picked a fresh id, so the actor is new. */
export const convGroup: CreateOp<'conv.group'> = {
  scope: 'create',
  run: async (actor, caller, req) => {
    const metadata: JsonObject = req.metadata ?? {};
    const { max_metadata_bytes: maxMetadata } = actor.ctx.limits;
    if (Buffer.byteLength(JSON.stringify(metadata)) > maxMetadata) throw tooLarge('metadata', `over ${maxMetadata} bytes`);
    const others = [...new Set(req.user_ids)].filter((u) => u !== caller.userId);
    return actor.serial(async () => {
      const blockers = await blockersOf(actor.ctx.pg, caller.userId, others);
      if (blockers.length > 0) throw forbidden(`blocked: ${blockers.join(', ')} cannot be added by you`);
      const created = await actor.create({
        type: 'group', metadata, externalGroupId: req.external_group_id ?? null, createdBy: caller.userId,
        members: [{ userId: caller.userId, role: 'admin' }, ...others.map((userId) => ({ userId, role: 'member' as const }))],
      });
      if (!created) throw new WhisprError(ErrorCode.Internal, 'group id collision');
      const state = await actor.ensureLoaded();
      if (!state) throw new WhisprError(ErrorCode.Internal, 'group vanished after creation');
      if (others.length > 0) actor.ctx.fanout.event(others, { ev: 'conv.updated', conversation: actor.conversation(state, null) });
      return { conversation: actor.conversation(state, caller.userId) };
    });
  },
};
