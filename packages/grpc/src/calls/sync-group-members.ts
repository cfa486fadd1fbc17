/**
 * SyncGroupMembers (seed §4.3): the user-service's membership of a group is
 * made the conversation's. The service reads the group as its owner has it
 * (conv.get as the service principal: admin rights without being a member),
 * and applies the difference through the owner as conv.members.add / remove,
 * each change one transaction with its `system` message (PROTOCOL.md §5), in
 * chunks of the protocol's per-call bound. Nothing to change: nothing written,
 * so the same list synced twice changes nothing the second time.
 *
 * Not atomic across chunks, and a change made between the read and the writes
 * (a member leaving) is simply skipped by the ops (they ignore ids already in
 * the wanted state); a failed call is retried by syncing again, which applies
 * only what is still different.
 */
import { badRequest, MAX_GROUP_MEMBERS, MAX_MEMBERS_PER_ADD, type Conversation } from '@whispr/protocol';
import { requireUserIds, requireUuid } from '../fields.ts';
import type { OwnerCalls } from '../owner-calls.ts';
import { wireConversation, type SyncGroupMembersRequest, type SyncGroupMembersResponse } from '../wire.ts';

const SERVICE = { kind: 'service' } as const;

export async function syncGroupMembers(owners: OwnerCalls, req: SyncGroupMembersRequest): Promise<SyncGroupMembersResponse> {
  const conversationId = requireUuid('conversation_id', req.conversation_id);
  // At least one: an empty list is far likelier a caller's bug than a wish to empty the group.
  const wanted = new Set(requireUserIds('member_ids', req.member_ids, 1, MAX_GROUP_MEMBERS));
  let { conversation } = await owners.call(SERVICE, { op: 'conv.get', conversation_id: conversationId });
  if (conversation.type !== 'group') throw badRequest('conversation_id', 'names a direct conversation: only a group’s members can be synced');
  const active = new Set(conversation.members.filter((m) => m.is_active).map((m) => m.user_id));
  const added = [...wanted].filter((u) => !active.has(u)).sort();
  const removed = [...active].filter((u) => !wanted.has(u)).sort();
  // Additions first: a group being replaced wholesale never passes through zero members.
  for (const user_ids of chunks(added, MAX_MEMBERS_PER_ADD)) {
    conversation = (await owners.call(SERVICE, { op: 'conv.members.add', conversation_id: conversationId, user_ids })).conversation;
  }
  for (const user_ids of chunks(removed, MAX_MEMBERS_PER_ADD)) {
    conversation = (await owners.call(SERVICE, { op: 'conv.members.remove', conversation_id: conversationId, user_ids })).conversation;
  }
  return { conversation: wireConversation(conversation satisfies Conversation), added_ids: added, removed_ids: removed };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
