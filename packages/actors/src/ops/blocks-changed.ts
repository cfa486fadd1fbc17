/**
 * internal.blocks.changed (internal calls only, protocol INTERNAL_ONLY_OPS):
 * the user_blocks rows between a direct conversation's pair were rewritten (the
 * gRPC API's SyncBlocks commits them first, then calls this on the owner of
 * the pair's conversation id). The actor drops what it holds in memory and
 * reloads before its next operation, so the next send into it sees the blocks
 * as committed; an actor not in memory reads them when it loads.
 *
 * The service alone runs it: validateRequest already refuses it from a socket,
 * and the caller's kind is checked again here so that no other internal
 * caller (a user on whose behalf a job acts) can make actors reload.
 */
import { badRequest, type EmptyResult } from '@whispr/protocol';
import type { ConversationOp } from './op.ts';

export const internalBlocksChanged: ConversationOp<'internal.blocks.changed'> = {
  scope: 'conversation',
  access: 'admin',
  async run(actor, caller): Promise<EmptyResult> {
    if (caller.kind !== 'service') throw badRequest('op', 'unknown op "internal.blocks.changed"');
    actor.invalidate();
    return {};
  },
};
