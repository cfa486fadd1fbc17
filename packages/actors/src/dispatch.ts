/**
 * Turns one frame into one reply: decode (raw frames), validate, route check,
 * run the operation on its actor or user handler, map errors to codes.
 */
import {
  ErrorCode, WhisprError, decodeFrame, isPlainObject, requestIdOf, validateRequest,
  type AnyRequest, type RequestId,
} from '@whispr/protocol';
import type { ActorRegistry } from './actor-registry.ts';
import { encodingOf, REPLY_BAD_FRAME, REPLY_GOOD_FRAME, type DecodedFrame, type Enc, type RawFrame } from './shard-contract.ts';
import { convList, sync } from './user-ops.ts';
import type { WorkerContext } from './worker-context.ts';


export class Dispatcher {
  constructor(private readonly ctx: WorkerContext, private readonly actors: ActorRegistry) {}

  async raw(buf: ArrayBuffer, frame: RawFrame): Promise<void> {
    let request: AnyRequest;
    try {
      const value = decodeFrame(new Uint8Array(buf, frame.off, frame.len), encodingOf(frame.enc));
      if (!isPlainObject(value)) throw new WhisprError(ErrorCode.BadRequest, 'frame is not an object');
      try {
        request = validateRequest(value, encodingOf(frame.enc));
      } catch (err) {
        this.fail(frame, requestIdOf(value), err, REPLY_GOOD_FRAME);
        return;
      }
    } catch (err) {
      this.fail(frame, null, err, REPLY_BAD_FRAME);
      return;
    }
    if ('conversation_id' in request && request.conversation_id !== frame.route) {
      // The peek matched something else (a nested key): send it to the real owner.
      this.ctx.outbox.reroute({ serial: frame.serial, conn: frame.conn, user: frame.user, enc: frame.enc, route: request.conversation_id, request });
      return;
    }
    await this.run({ ...frame, request }, REPLY_GOOD_FRAME);
  }

  async decoded(frame: DecodedFrame): Promise<void> {
    await this.run(frame, 0);
  }

  private async run(frame: DecodedFrame, flags: number): Promise<void> {
    const { request } = frame;
    try {
      const result = await this.execute(frame.user, frame.route, request);
      this.ctx.outbox.reply(frame.serial, frame.conn, frame.enc, { re: request.id, ok: true, ...result }, flags);
    } catch (err) {
      this.fail(frame, request.id, err, flags);
    }
  }

  private execute(userId: string, route: string, req: AnyRequest): Promise<Record<string, unknown>> {
    const caller = { userId };
    switch (req.op) {
      case 'msg.send':
        return this.actors.get(req.conversation_id).send(caller, req);
      case 'receipt.delivered':
        return this.actors.get(req.conversation_id).receipt(caller, 'delivered', req.up_to_seq);
      case 'receipt.read':
        return this.actors.get(req.conversation_id).receipt(caller, 'read', req.up_to_seq);
      case 'msg.history':
        return this.actors.get(req.conversation_id).history(caller, req);
      case 'conv.get':
        return this.actors.get(req.conversation_id).get(caller);
      case 'conv.direct':
        return this.actors.get(route).openDirect(caller, req.user_id);
      case 'conv.group':
        return this.actors.get(route).createGroup(caller, req);
      case 'conv.list':
        return convList(this.ctx, userId, req);
      case 'sync':
        return sync(this.ctx, userId, req);
      case 'ping':
        return Promise.resolve({ server_time: Date.now() });
    }
  }

  private fail(frame: { serial: number; conn: number; enc: Enc }, re: RequestId | null, err: unknown, flags: number): void {
    let body;
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
