/**
 * What `pnpm cluster status` reads: the node registry in Redis (every entry of
 * the sorted set, lapsed ones too), the ring built from the live ones exactly
 * as a node builds it (membership.ts), each live node's own view (its GET
 * /cluster, node-report.ts), and for one conversation: the slot and node the
 * ring gives it, the conversation_registry mirror (`<prefix>cluster:conversation_registry`,
 * "node/slot" of the live actor) and its PostgreSQL row, owner columns included
 * when the ownership fence migration has added them.
 *
 * Read-only: it writes nothing to Redis or PostgreSQL.
 */
import { Redis } from 'ioredis';
import { createPgPool, RedisKeys } from '@whispr/store';
import { HashRing } from './hash-ring.ts';
import { dialHost } from './node-process.ts';
import type { NodeReport } from './node-report.ts';
import { readRegistry } from './registry-redis.ts';

export interface StatusSources {
  redisUrl: string;
  redisPrefix: string;
  /** WHISPR_NODE_GRACE_MS: an entry whose heartbeat is older is not live. */
  graceMs: number;
  /** Where the conversations row is read (only with `conversation`). */
  databaseUrl: string;
  conversation?: string;
  /** Per request to Redis, PostgreSQL and each node (default 3000). */
  timeoutMs?: number;
}

export interface NodeStatus {
  nodeId: string;
  /** Heartbeat age per the sorted set's score. */
  heartbeatAgeMs: number;
  /** Heartbeat within the grace and a readable entry: in the ring. */
  live: boolean;
  incarnation: string | null;
  address: string | null;
  slots: string[];
  /** The node's own view, or why it could not be read (null: not asked, the node is not live). */
  view: NodeReport | { error: string } | null;
}

export interface ConversationStatus {
  id: string;
  /** The slot the ring of the live nodes gives it, and that slot's node. */
  ring: { slot: string; node: string } | null;
  /** The conversation_registry mirror: "node/slot" of its live actor, or null (no actor, or not yet mirrored). */
  registry: string | null;
  /** Columns of its conversations row (owner_epoch, owner_node when present), null: no such row; or why it was not read. */
  row: Record<string, unknown> | null | { error: string };
}

export interface ClusterStatus {
  redisPrefix: string;
  graceMs: number;
  at: number;
  nodes: NodeStatus[];
  ringSlots: string[];
  conversation?: ConversationStatus;
}

/** The columns shown of a conversations row; the others are not an operator's concern here. */
const ROW_COLUMNS = ['type', 'is_active', 'last_seq', 'updated_at', 'owner_epoch', 'owner_node'];

function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function fetchView(address: string, timeoutMs: number): Promise<NodeReport | { error: string }> {
  try {
    const res = await fetch(`http://${address}/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return { error: `GET /cluster answered ${res.status}` };
    return (await res.json()) as NodeReport;
  } catch (err) {
    return { error: message(err) };
  }
}

async function readRow(databaseUrl: string, id: string, timeoutMs: number): Promise<ConversationStatus['row']> {
  const pool = createPgPool({ connectionString: databaseUrl, max: 1, applicationName: 'whispr cluster status' });
  try {
    // to_jsonb of the whole row: the owner columns exist only once the fence migration ran.
    const result = await withTimeout('PostgreSQL', timeoutMs, pool.query<{ row: Record<string, unknown> }>('SELECT to_jsonb(c) AS row FROM conversations c WHERE id = $1', [id]));
    const row = result.rows[0]?.row;
    if (!row) return null;
    return Object.fromEntries(ROW_COLUMNS.filter((c) => c in row).map((c) => [c, row[c]]));
  } catch (err) {
    return { error: message(err) };
  } finally {
    await pool.end().catch(() => undefined /* never connected */);
  }
}

export async function readClusterStatus(o: StatusSources): Promise<ClusterStatus> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const keys = new RedisKeys(o.redisPrefix);
  // Fail fast: a status command that waits for Redis to come back tells nothing.
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null, lazyConnect: true });
  // ioredis rejects a failed connect with "Connection is closed."; the socket's own error says why.
  let lastError: Error | null = null;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await withTimeout('Redis', timeoutMs, redis.connect()).catch((err: unknown) => {
      throw lastError ?? err;
    });
    const at = Date.now();
    const entries = await withTimeout('Redis', timeoutMs, readRegistry(redis, keys));
    const nodes: NodeStatus[] = entries.map((e) => ({
      nodeId: e.nodeId,
      heartbeatAgeMs: at - e.heartbeat,
      live: e.node !== null && at - e.heartbeat <= o.graceMs,
      incarnation: e.node?.incarnation ?? null,
      address: e.node ? `${dialHost(e.node.host)}:${e.node.port}` : null,
      slots: e.node?.slots ?? [],
      view: null,
    }));
    await Promise.all(nodes.filter((n) => n.live && n.address).map(async (n) => {
      n.view = await fetchView(n.address ?? '', timeoutMs);
    }));
    const ring = new HashRing(nodes.filter((n) => n.live).flatMap((n) => n.slots));
    const status: ClusterStatus = { redisPrefix: o.redisPrefix, graceMs: o.graceMs, at, nodes, ringSlots: [...ring.slots] };
    if (o.conversation !== undefined) {
      const id = o.conversation;
      const slot = ring.ownerOf(id);
      const owner = slot === null ? undefined : nodes.find((n) => n.live && n.slots.includes(slot));
      const [registry, row] = await Promise.all([
        withTimeout('Redis', timeoutMs, redis.hget(keys.conversationRegistry(), id)),
        readRow(o.databaseUrl, id, timeoutMs),
      ]);
      status.conversation = { id, ring: slot !== null && owner ? { slot, node: owner.nodeId } : null, registry, row };
    }
    return status;
  } finally {
    redis.disconnect();
  }
}
