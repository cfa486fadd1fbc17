/**
 * Ops of PROTOCOL.md §5 that are being built: answered bad_request naming the op,
 * as before they had a handler, until their file replaces the entry in the table.
 */
import { badRequest, type Op } from '@whispr/protocol';
import type { ConversationOp, UserOp } from './op.ts';

export function notYetOnConversation<O extends Op>(op: O): ConversationOp<O> {
  return { scope: 'conversation', access: 'member', run: () => Promise.reject(badRequest('op', `${op} is not available yet`)) };
}

export function notYetForUser<O extends Op>(op: O): UserOp<O> {
  return { scope: 'user', run: () => Promise.reject(badRequest('op', `${op} is not available yet`)) };
}
