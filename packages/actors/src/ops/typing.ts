/**
 * typing (PROTOCOL.md §5, seed §3.2.5): an active member says they started or
 * stopped typing. It is the most frequent op after sends, so it costs one Redis
 * round trip and no PostgreSQL: the membership check is the actor's memory, the
 * record is `typing:{conversationId}:{userId}` (the start time, TTL 5 s), and
 * the event goes to the other members through the fan-out (any node). The typer's
 * own connections never get it. The same round trip records the member's latest
 * activity in `presence:conversation:{conversationId}` (seed §3.2.4).
 *
 * Every start sends `typing start`; after TYPING_TTL_S without a repeat the
 * service sends `typing stop` itself. That timer lives on the shard that owns the
 * conversation, keyed by (conversation, user): every typing request of the
 * conversation is routed to that shard, so a repeat or an explicit stop always
 * finds the timer to reset or cancel, with no coordination. It is kept per shard
 * rather than in the actor so an actor evicted and reloaded meanwhile still
 * cancels it. It survives nothing, on purpose: when the owner dies or the
 * conversation moves, the automatic stop is lost, which is harmless because the
 * protocol already tells clients that a start lapses after 5 s; a durable timer
 * (a job, keyspace notifications) would cost more than the indicator is worth.
 */
import { unavailable, type EmptyResult, type TypingEvent } from '@whispr/protocol';
import { CONVERSATION_PRESENCE_TTL_S, TYPING_TTL_S } from '@whispr/store';
import type { Caller, ConversationActor } from '../conversation-actor.ts';
import type { WorkerContext } from '../worker-context.ts';
import type { ConversationOp } from './op.ts';

export const TYPING_LAPSE_MS = TYPING_TTL_S * 1000;

/** The pending automatic stops of one shard, by `conversationId:userId`. */
class TypingTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** (Re)arms the automatic stop of this typer. */
  arm(key: string, fire: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      fire();
    }, TYPING_LAPSE_MS);
    // A lapse to announce never keeps a stopping shard alive.
    timer.unref();
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(key);
  }
}

/** One per shard context: it outlives the shard's actors. */
const timersOf = new WeakMap<WorkerContext, TypingTimers>();

function timers(ctx: WorkerContext): TypingTimers {
  let t = timersOf.get(ctx);
  if (!t) timersOf.set(ctx, (t = new TypingTimers()));
  return t;
}

async function typing(actor: ConversationActor, caller: Caller, state: 'start' | 'stop'): Promise<EmptyResult> {
  const { ctx, conversationId } = actor;
  // In the conversation's line (requests on one conversation take effect in order),
  // but without waiting for writes in flight: typing reads nothing they change.
  const others = await actor.serial(async () => {
    const s = await actor.memberState(caller.userId);
    return s.activeMemberIds().filter((u) => u !== caller.userId);
  });
  const key = ctx.keys.typing(conversationId, caller.userId);
  const timerKey = `${conversationId}:${caller.userId}`;
  const now = Date.now();
  const activity = ctx.keys.presenceConversation(conversationId);
  // One round trip: the typing record, and the member's activity in the conversation (seed §3.2.4).
  const pipeline = ctx.redis.pipeline();
  if (state === 'start') pipeline.set(key, String(now), 'PX', TYPING_LAPSE_MS);
  else pipeline.del(key);
  pipeline.hset(activity, caller.userId, `${state === 'start' ? 'typing' : 'idle'}@${now}`).expire(activity, CONVERSATION_PRESENCE_TTL_S);
  try {
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  } catch (err) {
    throw unavailable('typing could not be recorded now; retry', { cause: err });
  }
  const frame = (s: 'start' | 'stop'): TypingEvent => ({ ev: 'typing', conversation_id: conversationId, user_id: caller.userId, state: s });
  if (state === 'start') timers(ctx).arm(timerKey, () => {
    if (others.length > 0) ctx.fanout.event(others, frame('stop'));
  });
  else timers(ctx).cancel(timerKey);
  if (others.length > 0) ctx.fanout.event(others, frame(state));
  return {};
}

/** Any active member; the event goes to the other members online. */
export const typingOp: ConversationOp<'typing'> = {
  scope: 'conversation',
  access: 'member',
  run: (actor, caller, req) => typing(actor, caller, req.state),
};
