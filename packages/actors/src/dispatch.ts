/**
 * Turns one frame into one reply: decode, validate, check that what was decoded
 * is what the main thread routed (op and routing key), run the operation on its
 * actor or user handler, map errors to codes.
 *
 * The route check is what makes routing safe by construction: the main thread
 * read the op and the key from the frame's head (protocol/frame-head.ts), and a
 * frame runs only if its decoded op and key are those. A difference can only mean
 * the two readers disagree (a bug), so it is refused and logged, never run.
 */
import {
  CONVERSATION_OPS, ConversationNotFoundError, ErrorCode, WhisprError, badRequest, decodeFrame, isPlainObject, requestIdOf, validateRequest,
  type AnyRequest, type ErrorBody, type Op, type RequestId, type RequestOf,
} from '@whispr/protocol';
import { directConversationId } from '@whispr/store';
import type { ActorRegistry } from './actor-registry.ts';
import type { Caller, ConversationActor } from './conversation-actor.ts';
import { encodingOf, REPLY_BAD_FRAME, REPLY_GOOD_FRAME, REPLY_NOT_FOUND, type Enc, type RawFrame } from './shard-contract.ts';
import { OPS } from './ops/index.ts';
import type { OpHandler } from './ops/op.ts';
import type { WorkerContext } from './worker-context.ts';

type Result = object;

export class Dispatcher {
  constructor(private readonly ctx: WorkerContext, private readonly actors: ActorRegistry) {}

  async raw(buf: ArrayBuffer, frame: RawFrame): Promise<void> {
    let value: unknown;
    try {
      value = decodeFrame(new Uint8Array(buf, frame.off, frame.len), encodingOf(frame.enc));
      if (!isPlainObject(value)) throw new WhisprError(ErrorCode.BadRequest, 'frame is not an object');
    } catch (err) {
      this.fail(frame, null, err, REPLY_BAD_FRAME);
      return;
    }
    let request: AnyRequest;
    try {
      // Internal-only fields are refused unless the request came from inside the service.
      request = validateRequest(value, encodingOf(frame.enc), frame.caller !== 'client');
    } catch (err) {
      this.fail(frame, requestIdOf(value), err, REPLY_GOOD_FRAME);
      return;
    }
    const mismatch = routeMismatch(frame, request);
    if (mismatch !== null) {
      this.ctx.logger.error({ op: frame.op, route: frame.route, decodedOp: request.op, mismatch }, 'a frame decoded differently from how it was routed; refused');
      this.fail(frame, request.id, badRequest(mismatch, 'the frame is ambiguous: it does not decode to what it was routed by'), REPLY_GOOD_FRAME);
      return;
    }
    try {
      const result = await this.execute(frame, request);
      this.ctx.outbox.reply(frame.serial, frame.conn, frame.enc, { re: request.id, ok: true, ...result }, REPLY_GOOD_FRAME);
    } catch (err) {
      this.fail(frame, request.id, err, REPLY_GOOD_FRAME | (err instanceof ConversationNotFoundError ? REPLY_NOT_FOUND : 0));
    }
  }

  /** Runs the request's handler from the dispatch table (ops/index.ts), where its scope says. */
  private execute<O extends Op>(frame: RawFrame, req: RequestOf<O>): Promise<Result> {
    const handler = OPS[req.op as O] as OpHandler<O>;
    const caller: Caller = { userId: frame.user, kind: frame.caller };
    // The service's rights are on conversations; it has no conversations of its own to list or create as.
    if (caller.kind === 'service' && handler.scope !== 'conversation') return Promise.reject(badRequest('op', `${req.op} cannot run as the service`));
    switch (handler.scope) {
      case 'conversation':
        return this.onConversation((req as { conversation_id: string }).conversation_id, (actor) => handler.run(actor, caller, req));
      case 'create':
        return handler.run(this.actors.forCreate(frame.route), caller, req);
      case 'user':
        return handler.run(this.ctx, caller, req);
    }
  }

  /** Runs an operation on an existing conversation's actor; a conversation found missing is remembered. */
  private async onConversation(conversationId: string, op: (actor: ConversationActor) => Promise<Result>): Promise<Result> {
    try {
      return await op(this.actors.get(conversationId));
    } catch (err) {
      if (err instanceof ConversationNotFoundError) this.actors.markMissing(conversationId);
      throw err;
    }
  }

  private fail(frame: { serial: number; conn: number; enc: Enc }, re: RequestId | null, err: unknown, flags: number): void {
    let body: ErrorBody;
    if (err instanceof WhisprError) {
      body = err.toBody();
      if (err.code === ErrorCode.Unavailable) this.ctx.logger.warn({ err, re }, 'request unavailable');
    } else {
      this.ctx.logger.error({ err, re, conn: frame.conn }, 'request failed');
      body = { code: ErrorCode.Internal, message: 'internal error' };
    }
    this.ctx.outbox.reply(frame.serial, frame.conn, frame.enc, { re, ok: false, error: body }, flags);
  }
}

/** The field whose decoded value differs from what the frame was routed by, or null when they agree. */
function routeMismatch(frame: RawFrame, request: AnyRequest): string | null {
  if (request.op !== frame.op) return 'op';
  if (CONVERSATION_OPS.has(request.op)) return 'conversation_id' in request && request.conversation_id === frame.route ? null : 'conversation_id';
  switch (request.op) {
    case 'conv.direct':
      return directConversationId(frame.user, request.user_id) === frame.route ? null : 'user_id';
    case 'conv.list':
    case 'sync':
      return frame.route === frame.user ? null : 'op';
    default:
      return null;
  }
}
