/**
 * What a frame's head says about where it runs: its op, and the key it routes
 * on. Shared by a socket's frames and internal calls (frame-router.ts), so both
 * are routed by the same rules, and the shard's check (actors/dispatch.ts) holds
 * for both.
 *
 * Routing keys: a conversation op routes on its conversation_id; conv.direct on
 * the id derived from the sorted pair; conv.group on a fresh id (conversations
 * are created only at ids the server derives); conv.list and sync on the user.
 */
import { CONVERSATION_OPS, WhisprError, badRequest, isOp, isUuid, type FrameHead, type Op } from '@whispr/protocol';
import { directConversationId, newId } from '@whispr/store';

/** The frame's op, or the error to answer it with. */
export function opOf(head: FrameHead): Op | WhisprError {
  if (head.badId) return badRequest('id', 'must be a string (at most 128 characters) or an integer');
  if (head.id === null) return badRequest('id', 'is required');
  if (head.opType === null) return badRequest('op', 'is required');
  if (head.op === null) return badRequest('op', `must be a string, got ${head.opType === 'array' ? 'an array' : `a ${head.opType}`}`);
  if (!isOp(head.op)) return badRequest('op', `unknown op ${JSON.stringify(head.op).slice(0, 64)}`);
  return head.op;
}

/** The key a request of `userId` routes on, or the error to answer it with. */
export function routeKey(userId: string, head: FrameHead, op: Op): string | WhisprError {
  if (CONVERSATION_OPS.has(op)) {
    if (!isUuid(head.conversationId)) {
      return badRequest('conversation_id', head.conversationId === null ? 'is required (a lowercase hyphenated UUID)' : 'must be a lowercase hyphenated UUID');
    }
    return head.conversationId;
  }
  switch (op) {
    case 'conv.direct':
      if (!isUuid(head.userId)) return badRequest('user_id', head.userId === null ? 'is required (a lowercase hyphenated UUID)' : 'must be a lowercase hyphenated UUID');
      if (head.userId === userId) return badRequest('user_id', 'must not be the caller’s own id');
      return directConversationId(userId, head.userId);
    case 'conv.group':
      return newId();
    default:
      return userId;
  }
}
