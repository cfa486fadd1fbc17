/**
 * conv.update (PROTOCOL.md §5): admins only (a direct conversation has none, so
 * it is forbidden there). `metadata` REPLACES the conversation's metadata (unlike
 * the settings ops, which merge): a client removes a key by sending the object
 * without it. Plain JSON within max_metadata_bytes. One fenced transaction with
 * its audit_log entry; after commit the actor's copy changes and every active
 * member gets conv.updated.
 */
import type { ConversationResult } from '@whispr/protocol';
import { insertAudit, replaceConversationMetadata } from '@whispr/store';
import { checkJsonObject } from './json-bounds.ts';
import type { ConversationOp } from './op.ts';

export const convUpdate: ConversationOp<'conv.update'> = {
  scope: 'conversation',
  access: 'admin',
  async run(actor, caller, req): Promise<ConversationResult> {
    checkJsonObject('metadata', req.metadata, actor.ctx.limits.max_metadata_bytes);
    const state = await actor.exclusive(caller, 'admin', async (tx, state) => {
      const updatedAt = await replaceConversationMetadata(tx.client, actor.conversationId, req.metadata);
      await insertAudit(tx.client, { actorId: caller.userId, conversationId: actor.conversationId, action: 'conversation.updated', details: { metadata: req.metadata }, at: updatedAt });
      tx.onCommit(() => {
        state.row.metadata = req.metadata;
        state.row.updated_at = Math.max(state.row.updated_at, updatedAt);
        actor.ctx.fanout.event(state.activeMemberIds(), { ev: 'conv.updated', conversation: actor.conversation(state, null) });
      });
      return state;
    });
    return { conversation: actor.conversation(state, caller.userId) };
  },
};
