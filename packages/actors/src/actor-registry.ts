/**
 * The shard's live actors. An actor is created on first use and evicted when it
 * has been idle for a while (DESIGN.md invariant 6, bounded memory); its state is
 * reloaded from PostgreSQL when the conversation comes back. The registry also
 * mirrors which actors are active into Redis (the seed's conversation_registry).
 */
import { ConversationActor } from './conversation-actor.ts';
import type { WorkerContext } from './worker-context.ts';

export class ActorRegistry {
  private readonly actors = new Map<string, ConversationActor>();
  private readonly sweeper: NodeJS.Timeout;
  private announced = new Set<string>();

  constructor(private readonly ctx: WorkerContext, private readonly maxActors = 200_000) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(30_000, Math.max(1000, ctx.data.actorIdleMs / 2)));
    this.sweeper.unref();
  }

  /** Stops the idle sweep (the shard is closing). */
  close(): void {
    clearInterval(this.sweeper);
  }

  get size(): number {
    return this.actors.size;
  }

  get(conversationId: string): ConversationActor {
    let actor = this.actors.get(conversationId);
    if (!actor) {
      actor = new ConversationActor(conversationId, this.ctx);
      this.actors.set(conversationId, actor);
      if (this.actors.size > this.maxActors) this.evictOldest();
    }
    return actor;
  }

  private evictOldest(): void {
    let oldest: ConversationActor | null = null;
    for (const a of this.actors.values()) if (a.idle && (!oldest || a.lastUsed < oldest.lastUsed)) oldest = a;
    if (oldest) this.actors.delete(oldest.conversationId);
  }

  sweep(now = Date.now()): void {
    const gone: string[] = [];
    const fresh: string[] = [];
    for (const [id, actor] of this.actors) {
      if (actor.idle && now - actor.lastUsed > this.ctx.data.actorIdleMs) {
        this.actors.delete(id);
        if (this.announced.delete(id)) gone.push(id);
      } else if (actor.loaded && !this.announced.has(id)) {
        this.announced.add(id);
        fresh.push(id);
      }
    }
    if (gone.length === 0 && fresh.length === 0) return;
    const key = this.ctx.keys.conversationRegistry();
    const owner = `${this.ctx.data.nodeId}/${this.ctx.data.slot}`;
    const pipeline = this.ctx.redis.pipeline();
    if (gone.length > 0) pipeline.hdel(key, ...gone);
    for (const id of fresh) pipeline.hset(key, id, owner);
    pipeline.exec().catch((err: unknown) => this.ctx.logger.warn({ err }, 'conversation registry update failed'));
  }
}
