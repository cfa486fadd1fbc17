/**
 * An operation's handler (PROTOCOL.md §5), one entry of the dispatch table
 * (ops/index.ts). Each states, in one place, where it runs and who may run it:
 *
 * - `conversation`: on the conversation's actor (the frame was routed on its
 *   conversation_id); `access` is checked by the actor's primitives before the
 *   handler's own rules (sender only, direct conversations excluded, blocks...).
 * - `create`: on the actor of a conversation being created at an id the server
 *   derived (the pair's id for conv.direct, a fresh one for conv.group).
 * - `user`: scoped to the caller, not to one conversation (routed on the user id).
 */
import type { Op, RequestOf, ResultMap } from '@whispr/protocol';
import type { Access, Caller, ConversationActor } from '../conversation-actor.ts';
import type { WorkerContext } from '../worker-context.ts';

export type ConversationOp<O extends Op> = {
  readonly scope: 'conversation';
  /** Who may run it at all: an active member, or an admin. Finer rules are the handler's, stated in its comment. */
  readonly access: Access;
  run(actor: ConversationActor, caller: Caller, req: RequestOf<O>): Promise<ResultMap[O]>;
};

export type CreateOp<O extends Op> = {
  readonly scope: 'create';
  run(actor: ConversationActor, caller: Caller, req: RequestOf<O>): Promise<ResultMap[O]>;
};

export type UserOp<O extends Op> = {
  readonly scope: 'user';
  run(ctx: WorkerContext, caller: Caller, req: RequestOf<O>): Promise<ResultMap[O]>;
};

export type OpHandler<O extends Op> = ConversationOp<O> | CreateOp<O> | UserOp<O>;

/** Every op of the protocol, with its handler: a missing one is a type error. */
export type OpTable = { readonly [O in Op]: OpHandler<O> };
