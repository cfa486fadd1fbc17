/**
 * Conversation settings (conversation_settings, seed §2.2.8) and a member's own
 * settings (conversation_members.settings: mute and the like), PROTOCOL.md §5.
 *
 * - conv.settings.get: every active member. conv.settings.set: admins only.
 * - member.settings.set: the caller's own entry only; private, so the change is
 *   announced (conv.updated) to the caller's own connections alone, and no other
 *   member ever sees it (ConversationState.toWire shows settings on the viewer's
 *   own entry only). Not audited: it is the member's private preference, not a
 *   change to the conversation.
 *
 * Both sets merge: top-level keys of `settings` replace the stored ones, others
 * stay (a key set to null is stored as null). The patch must be plain JSON and the
 * merged object within max_metadata_bytes (too_large otherwise, nothing written).
 */
import { tooLarge, type JsonObject, type SettingsResult } from '@whispr/protocol';
import { conversationSettings, insertAudit, mergeConversationSettings, mergeMemberSettings } from '@whispr/store';
import { checkJsonObject } from './json-bounds.ts';
import type { ConversationOp } from './op.ts';

function checkMerged(merged: JsonObject, maxBytes: number): void {
  if (Buffer.byteLength(JSON.stringify(merged)) > maxBytes) throw tooLarge('settings', `merged settings over ${maxBytes} bytes`);
}

export const convSettingsGet: ConversationOp<'conv.settings.get'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller) => actor.read(caller, 'member', async (): Promise<SettingsResult> => ({ settings: await conversationSettings(actor.ctx.pg, actor.conversationId) })),
};

export const convSettingsSet: ConversationOp<'conv.settings.set'> = {
  scope: 'conversation',
  access: 'admin',
  run(actor, caller, req): Promise<SettingsResult> {
    const max = actor.ctx.limits.max_metadata_bytes;
    checkJsonObject('settings', req.settings, max);
    return actor.exclusive(caller, 'admin', async (tx, state) => {
      const settings = await mergeConversationSettings(tx.client, actor.conversationId, req.settings);
      checkMerged(settings, max);
      await insertAudit(tx.client, { actorId: caller.userId, conversationId: actor.conversationId, action: 'settings.changed', details: { settings: req.settings }, at: Date.now() });
      tx.onCommit(() => actor.ctx.fanout.event(state.activeMemberIds(), { ev: 'conv.updated', conversation: actor.conversation(state, null) }));
      return { settings };
    });
  },
};

export const memberSettingsSet: ConversationOp<'member.settings.set'> = {
  scope: 'conversation',
  access: 'member',
  run(actor, caller, req): Promise<SettingsResult> {
    const max = actor.ctx.limits.max_metadata_bytes;
    checkJsonObject('settings', req.settings, max);
    return actor.exclusive(caller, 'member', async (tx, state) => {
      const settings = await mergeMemberSettings(tx.client, actor.conversationId, caller.userId, req.settings);
      checkMerged(settings, max);
      tx.onCommit(() => {
        const me = state.members.get(caller.userId);
        if (me) me.settings = settings;
        // Only the caller's own connections: the event may carry their settings.
        actor.ctx.fanout.event([caller.userId], { ev: 'conv.updated', conversation: actor.conversation(state, caller.userId) });
      });
      return { settings };
    });
  },
};
