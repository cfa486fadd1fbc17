/**
 * Who could block the caller here (seed §5.2; PROTOCOL.md §5 "a block forbids
 * it"): blocks apply in a direct conversation, where the other member's block
 * of the caller forbids adding to it (sending, reacting, pinning). In a group
 * nobody's block stops another member. The check itself runs in the write's own
 * statement (user_blocks is written by the user-service, not by the actor), so
 * it costs no extra round trip.
 */
import type { ConversationState } from '../conversation-state.ts';

/** The other member of a direct conversation, or null in a group. */
export function directPeerOf(state: ConversationState, userId: string): string | null {
  if (state.row.type !== 'direct') return null;
  for (const id of state.members.keys()) if (id !== userId) return id;
  return null;
}
