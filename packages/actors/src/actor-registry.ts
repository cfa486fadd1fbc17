/**
 * The shard's live actors (DESIGN.md invariant 6, bounded memory).
 *
 * - An actor is created on first use and evicted when idle for `actorIdleMs`,
 *   or, past `maxActors`, least recently used first. The map is kept in use order
 *   (an actor moves to its end when used), so both the sweep and eviction start at
 *   the front and stop at the first actor still in use: O(1) per eviction.
 * - Conversations found not to exist are remembered briefly (`missingTtlMs`), so
 *   a client asking for ids that do not exist costs no actor and no query; only
 *   creating a conversation (conv.direct, conv.group) at that id clears it.
 * - The registry mirrors which actors are live into Redis (the seed's
 *   conversation_registry, §8.2): loads and evictions are queued and written by
 *   the sweep in one pipeline; a failed write is put back and retried.
 */
import { ConversationNotFoundError } from '@whispr/protocol';
import { directConversationId } from '@whispr/store';
import { ConversationActor } from './conversation-actor.ts';
import type { WorkerContext } from './worker-context.ts';

export interface ActorRegistryOptions {
  /** Most live actors; past it the least recently used idle one is evicted. */
  maxActors?: number;
  /** How long a conversation found missing is answered not_found without looking again. */
  missingTtlMs?: number;
  /** Most remembered missing ids (oldest forgotten first). */
  maxMissing?: number;
}

/** Actors examined per eviction before giving up (all busy: the shard runs over its bound until they finish). */
const EVICTION_PROBES = 8;

/**
 * Deletes the mirror entries that still name this shard: when a conversation has
 * moved, its new owner wrote its own entry, which the old owner's eviction must
 * not delete.
 */
const FORGET_SCRIPT = `
local n = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n`;

export class ActorRegistry {
  private readonly actors = new Map<string, ConversationActor>();
  private readonly missing = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxActors: number;
  private readonly missingTtlMs: number;
  private readonly maxMissing: number;
  /** conversation_registry entries to write (loaded here) and to delete (evicted). */
  private toAnnounce = new Set<string>();
  private toForget = new Set<string>();
  private writing = false;

  constructor(private readonly ctx: WorkerContext, options: ActorRegistryOptions = {}) {
    this.maxActors = positive('maxActors', options.maxActors ?? 200_000);
    this.missingTtlMs = positive('missingTtlMs', options.missingTtlMs ?? 5_000);
    this.maxMissing = positive('maxMissing', options.maxMissing ?? 100_000);
    this.sweeper = setInterval(() => this.sweep(), Math.min(30_000, Math.max(1000, ctx.data.actorIdleMs / 2)));
    this.sweeper.unref();
    // After Redis came back (maybe restarted, every key gone), every live actor is announced again.
    let connectedOnce = ctx.redis.status === 'ready';
    ctx.redis.on('ready', () => {
      if (connectedOnce) this.reannounce();
      connectedOnce = true;
    });
  }

  private reannounce(): void {
    for (const [id, actor] of this.actors) if (actor.loaded) this.toAnnounce.add(id);
    this.writeMirror();
  }

  /** Stops the idle sweep (the shard is closing). */
  close(): void {
    clearInterval(this.sweeper);
  }

  get size(): number {
    return this.actors.size;
  }

  /** The actor of a conversation that should exist; throws not_found at once when it was just found missing. */
  get(conversationId: string, now = Date.now()): ConversationActor {
    const missingUntil = this.missing.get(conversationId);
    if (missingUntil !== undefined) {
      if (missingUntil > now) throw new ConversationNotFoundError();
      this.missing.delete(conversationId);
    }
    return this.use(conversationId);
  }

  /** The actor of a conversation about to be created here. */
  forCreate(conversationId: string): ConversationActor {
    this.missing.delete(conversationId);
    return this.use(conversationId);
  }

  /**
   * The blocks between two users changed (user_blocks rows written by the
   * user-service; the internal SyncBlocks call of issue 10 calls this on the
   * shard that owns the pair's direct conversation, routed on
   * directConversationId like conv.direct). Their direct conversation's actor,
   * if live here, reloads before its next operation, blocks included; one not in
   * memory reads them when it loads. Groups keep no blocks in memory (adding a
   * member reads them from PostgreSQL). Returns whether an actor was told.
   */
  blocksChanged(userA: string, userB: string): boolean {
    const actor = this.actors.get(directConversationId(userA, userB));
    actor?.invalidate();
    return actor !== undefined;
  }

  /** The conversation does not exist: remember it, and drop its actor if nothing else waits on it. */
  markMissing(conversationId: string, now = Date.now()): void {
    this.missing.delete(conversationId);
    this.missing.set(conversationId, now + this.missingTtlMs);
    if (this.missing.size > this.maxMissing) {
      const oldest = this.missing.keys().next();
      if (!oldest.done) this.missing.delete(oldest.value);
    }
    const actor = this.actors.get(conversationId);
    if (actor?.idle && !actor.loaded) this.actors.delete(conversationId);
  }

  private use(conversationId: string): ConversationActor {
    let actor = this.actors.get(conversationId);
    if (actor) {
      // Move to the end: the map's order is the order of last use.
      this.actors.delete(conversationId);
      this.actors.set(conversationId, actor);
      return actor;
    }
    actor = new ConversationActor(conversationId, this.ctx, () => this.loaded(conversationId));
    this.actors.set(conversationId, actor);
    if (this.actors.size > this.maxActors) this.evictLeastRecentlyUsed();
    return actor;
  }

  private loaded(conversationId: string): void {
    this.toForget.delete(conversationId);
    this.toAnnounce.add(conversationId);
  }

  private evict(conversationId: string, actor: ConversationActor): void {
    this.actors.delete(conversationId);
    if (actor.loaded) {
      this.toAnnounce.delete(conversationId);
      this.toForget.add(conversationId);
    }
  }

  private evictLeastRecentlyUsed(): void {
    let probes = 0;
    for (const [id, actor] of this.actors) {
      if (probes++ >= EVICTION_PROBES) return;
      if (actor.idle) {
        this.evict(id, actor);
        return;
      }
    }
  }

  /** Evicts actors idle past actorIdleMs (from the front, stopping at the first recent one) and writes the registry mirror. */
  sweep(now = Date.now()): void {
    const idleMs = this.ctx.data.actorIdleMs;
    for (const [id, actor] of this.actors) {
      if (now - actor.lastUsed <= idleMs) break;
      // A busy actor at the front is rare (it was used, so it moved back); look past it.
      if (actor.idle) this.evict(id, actor);
    }
    for (const [id, until] of this.missing) {
      if (until > now) break;
      this.missing.delete(id);
    }
    this.writeMirror();
  }

  private writeMirror(): void {
    if (this.writing || (this.toAnnounce.size === 0 && this.toForget.size === 0)) return;
    const fresh = this.toAnnounce;
    const gone = this.toForget;
    this.toAnnounce = new Set();
    this.toForget = new Set();
    const key = this.ctx.keys.conversationRegistry();
    const owner = `${this.ctx.data.nodeId}/${this.ctx.data.slot}`;
    const pipeline = this.ctx.redis.pipeline();
    if (gone.size > 0) pipeline.eval(FORGET_SCRIPT, 1, key, owner, ...gone);
    for (const id of fresh) pipeline.hset(key, id, owner);
    this.writing = true;
    pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([err]) => err);
        if (failed?.[0]) throw failed[0];
      })
      .catch((err: unknown) => {
        // Put back what was not written (unless something newer replaced it) for the next sweep.
        for (const id of fresh) if (!this.toForget.has(id) && this.actors.has(id)) this.toAnnounce.add(id);
        for (const id of gone) if (!this.toAnnounce.has(id) && !this.actors.has(id)) this.toForget.add(id);
        this.ctx.logger.warn({ err, announce: fresh.size, forget: gone.size }, 'conversation registry update failed; retrying at the next sweep');
      })
      .finally(() => {
        this.writing = false;
      });
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`ActorRegistry option ${name} must be a positive integer, got ${value}`);
  return value;
}
