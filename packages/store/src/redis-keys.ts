/**
 * The Redis keyspace (seed §3.2 plus the node registry of §8.2), all under one
 * prefix so tests and deployments can share a server. Braces mark the part a
 * Redis Cluster hashes on (the user or conversation), which keeps every key of
 * one user or one conversation on one shard.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    if (!/^[A-Za-z0-9:_.-]*$/.test(prefix)) throw new TypeError(`redis prefix ${JSON.stringify(prefix)} may only hold letters, digits and : _ . -`);
    this.prefix = prefix;
  }

  /** Hash: connections, devices, last_activity, node and per-node counts (seed §3.2.1, store/presence.ts). TTL 2 min, refreshed while connected. */
  presenceUser(userId: string): string {
    return `${this.prefix}presence:user:{${userId}}`;
  }
  /**
   * Hash: the nodes watching this user's presence (presence.watch), node id →
   * the incarnation it registered under. TTL 2 min, refreshed by each watching node.
   */
  presenceWatchers(userId: string): string {
    return `${this.prefix}presence:watchers:{${userId}}`;
  }
  /** Hash: user_id → `<activity>@<ms>` of members recently active in the conversation (seed §3.2.4). */
  presenceConversation(conversationId: string): string {
    return `${this.prefix}presence:conversation:{${conversationId}}`;
  }
  /** Hash: user_id, device_id, ip, user_agent, connected_at, node (seed §3.2.2). */
  session(sessionId: string): string {
    return `${this.prefix}session:{${sessionId}}`;
  }
  /** Sorted set of queued msg.new events for an offline user (seed §3.2.3); see offline-queue.ts. */
  deliveryQueue(userId: string): string {
    return `${this.prefix}delivery:queue:{${userId}}`;
  }
  /** String: typing start time, TTL 5 s (seed §3.2.5). */
  typing(conversationId: string, userId: string): string {
    return `${this.prefix}typing:{${conversationId}}:${userId}`;
  }
  /** Sorted set of node ids scored by last heartbeat (seed node_status). */
  nodes(): string {
    return `${this.prefix}cluster:nodes`;
  }
  /** Hash: status, last_heartbeat, host, port, slots (seed node_status). */
  node(nodeId: string): string {
    return `${this.prefix}cluster:node:${nodeId}`;
  }
  /** Hash conversation_id -> "node/slot" of the active actor (seed conversation_registry). */
  conversationRegistry(): string {
    return `${this.prefix}cluster:conversation_registry`;
  }
  /** Pub/sub channel announcing ring changes. */
  ringChannel(): string {
    return `${this.prefix}cluster:ring`;
  }
}

export const PRESENCE_TTL_S = 120;
export const DELIVERY_QUEUE_TTL_S = 7 * 24 * 3600;
export const TYPING_TTL_S = 5;
/** How long presence:conversation outlives its last write. */
export const CONVERSATION_PRESENCE_TTL_S = 300;
