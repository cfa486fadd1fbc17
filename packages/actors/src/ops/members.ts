/**
 * conv.members.add, conv.members.remove and conv.leave (PROTOCOL.md §5).
 *
 * - add / remove: admins of a group only (a direct conversation's membership is
 *   its pair: forbidden). Ids already in the wanted state are skipped; a request
 *   that changes nothing writes nothing and answers the conversation as it is.
 *   An admin removes others; they leave with conv.leave.
 * - leave: every active member of a group; a direct conversation cannot be left
 *   (forbidden: it is the pair's one conversation, conv.direct hands it out).
 *   When the group's last active admin leaves, the longest-standing active member
 *   becomes admin in the same transaction (`promoted` in the system message), so
 *   a group with members always has someone who can manage it.
 *
 * Each change is one fenced transaction (ConversationActor.exclusive): a `system`
 * message with the next seq (metadata: action, by, user_ids), the member rows, an
 * audit_log entry. After commit only: the actor's member list changes, the system
 * message goes as msg.new to the members before the change plus those added, then
 * conv.updated to the same users, so removed and leaving users learn they are
 * inactive and hear nothing of the conversation after it. Every op on it then
 * answers them forbidden (sync and history included).
 */
import { badRequest, forbidden, MAX_GROUP_MEMBERS, type ConversationResult, type EmptyResult } from '@whispr/protocol';
import { addOrReactivateMembers, blockersOf, deactivateMembers, insertAudit, setMemberRole } from '@whispr/store';
import type { ConversationActor } from '../conversation-actor.ts';
import type { ConversationState, MemberState } from '../conversation-state.ts';
import type { ExclusiveTx } from '../exclusive.ts';
import type { ConversationOp } from './op.ts';

function requireGroup(state: ConversationState, what: string): void {
  if (state.row.type !== 'group') throw forbidden(`${what} is for groups; a direct conversation’s members never change`);
}

/** After commit: the change is visible in memory and announced (the system message's msg.new went first). */
function announce(actor: ConversationActor, tx: ExclusiveTx, state: ConversationState, at: number, to: string[], change: () => void): void {
  tx.onCommit(() => {
    change();
    state.row.updated_at = Math.max(state.row.updated_at, at);
    actor.ctx.fanout.event(to, { ev: 'conv.updated', conversation: actor.conversation(state, null) });
  });
}

export const convMembersAdd: ConversationOp<'conv.members.add'> = {
  scope: 'conversation',
  access: 'admin',
  async run(actor, caller, req): Promise<ConversationResult> {
    const state = await actor.exclusive(caller, 'admin', async (tx, state) => {
      requireGroup(state, 'conv.members.add');
      const added = [...new Set(req.user_ids)].filter((u) => !state.isActiveMember(u));
      if (added.length === 0) return state;
      const before = state.activeMemberIds();
      const size = before.length + added.length;
      if (size > MAX_GROUP_MEMBERS) throw badRequest('user_ids', `the group would have ${size} members, over ${MAX_GROUP_MEMBERS}`);
      const blockers = await blockersOf(tx.client, caller.userId, added);
      if (blockers.length > 0) throw forbidden(`blocked: ${blockers.join(', ')} cannot be added by you`);
      const everyone = [...before, ...added];
      const message = await tx.systemMessage('members.added', { user_ids: added }, everyone);
      const rows = await addOrReactivateMembers(tx.client, actor.conversationId, added, message.sent_at, message.seq);
      await insertAudit(tx.client, {
        actorId: caller.userId, conversationId: actor.conversationId, action: 'members.added', details: { user_ids: added, seq: message.seq }, at: message.sent_at,
      });
      announce(actor, tx, state, message.sent_at, everyone, () => {
        for (const row of rows) state.setMember(row);
      });
      return state;
    });
    return { conversation: actor.conversation(state, caller.userId) };
  },
};

export const convMembersRemove: ConversationOp<'conv.members.remove'> = {
  scope: 'conversation',
  access: 'admin',
  async run(actor, caller, req): Promise<ConversationResult> {
    const state = await actor.exclusive(caller, 'admin', async (tx, state) => {
      requireGroup(state, 'conv.members.remove');
      const named = [...new Set(req.user_ids)];
      if (named.includes(caller.userId)) throw badRequest('user_ids', 'must not name the caller: leave with conv.leave');
      const removed = named.filter((u) => state.isActiveMember(u));
      if (removed.length === 0) return state;
      const before = state.activeMemberIds();
      const message = await tx.systemMessage('members.removed', { user_ids: removed }, before);
      await deactivateMembers(tx.client, actor.conversationId, removed);
      await insertAudit(tx.client, {
        actorId: caller.userId, conversationId: actor.conversationId, action: 'members.removed', details: { user_ids: removed, seq: message.seq }, at: message.sent_at,
      });
      announce(actor, tx, state, message.sent_at, before, () => {
        for (const u of removed) deactivate(state.members.get(u));
      });
      return state;
    });
    return { conversation: actor.conversation(state, caller.userId) };
  },
};

export const convLeave: ConversationOp<'conv.leave'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller) =>
    actor.exclusive(caller, 'member', async (tx, state): Promise<EmptyResult> => {
      requireGroup(state, 'conv.leave');
      const me = state.members.get(caller.userId);
      const before = state.activeMemberIds();
      const heir = me?.role === 'admin' && state.activeAdmins().length === 1 ? longestStanding(state, caller.userId) : undefined;
      const promoted = heir ? { promoted: [heir.userId] } : {};
      const message = await tx.systemMessage('member.left', { user_ids: [caller.userId], ...promoted }, before);
      await deactivateMembers(tx.client, actor.conversationId, [caller.userId]);
      if (heir) await setMemberRole(tx.client, actor.conversationId, heir.userId, 'admin');
      await insertAudit(tx.client, {
        actorId: caller.userId, conversationId: actor.conversationId, action: 'member.left', details: { user_ids: [caller.userId], ...promoted, seq: message.seq }, at: message.sent_at,
      });
      announce(actor, tx, state, message.sent_at, before, () => {
        deactivate(me);
        if (heir) heir.role = 'admin';
      });
      return {};
    }),
};

function deactivate(member: MemberState | undefined): void {
  if (member) member.isActive = false;
}

/** The active member other than `leaving` who joined first (ties by user id, so every node picks the same). */
function longestStanding(state: ConversationState, leaving: string): MemberState | undefined {
  let best: MemberState | undefined;
  for (const m of state.members.values()) {
    if (!m.isActive || m.userId === leaving) continue;
    if (!best || m.joinedAt < best.joinedAt || (m.joinedAt === best.joinedAt && m.userId < best.userId)) best = m;
  }
  return best;
}
