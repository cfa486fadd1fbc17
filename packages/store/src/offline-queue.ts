/**
 * The offline delivery queue (seed §3.2.3, PROTOCOL.md §6), one sorted set per user.
 *
 * Every entry has score 0 and the member `<conversation_id>:<seq, 12 digits>:<msg.new event JSON>`,
 * so the set is ordered by conversation then seq, and "everything of conversation C
 * up to seq N" is one ZREMRANGEBYLEX when the user acknowledges it with a receipt.
 * (A time score would need a scan to find a conversation's entries.) The key expires
 * 7 days after its newest entry.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { DELIVERY_QUEUE_TTL_S, type RedisKeys } from './redis-keys.ts';

const SEQ_DIGITS = 12;
const HEADER_LENGTH = 36 + 1 + SEQ_DIGITS + 1;

const padSeq = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

export const queueMember = (conversationId: string, seq: number, eventJson: string): string =>
  `${conversationId}:${padSeq(seq)}:${eventJson}`;

export interface QueuedEvent {
  conversationId: string;
  seq: number;
  /** The msg.new event as JSON text. */
  eventJson: string;
}

export function parseQueueMember(member: string): QueuedEvent {
  return {
    conversationId: member.slice(0, 36),
    seq: Number(member.slice(37, 37 + SEQ_DIGITS)),
    eventJson: member.slice(HEADER_LENGTH),
  };
}

/**
 * Entries one user's queue holds at most. Past it, newer messages are not queued:
 * the queue keeps what it delivers first (the oldest), and the client reaches
 * the rest with sync, the seq gap telling it to (docs/protocol.md). Entries carry
 * whole msg.new events (up to ~90 KiB with the largest content), so the cap
 * bounds Redis memory per user.
 */
export const DEFAULT_QUEUE_CAP = 5_000;

/** Adds the entry unless the queue is full, and renews the queue's 7 days; one round trip, atomic. */
const ENQUEUE_SCRIPT = `
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then redis.call('ZADD', KEYS[1], 0, ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/**
 * Removes the queued copies of a message (or of the seqs fromSeq..toSeq) from
 * one user's queue: their content changed after they were queued (edited,
 * deleted for everyone, expired by retention). The user then reaches
 * it with sync, as it stands now, the seq gap in what the queue delivers
 * telling the client to; a tombstone's old content is never delivered.
 */
export function dropQueued(pipeline: ChainableCommander, keys: RedisKeys, userId: string, conversationId: string, fromSeq: number, toSeq = fromSeq): void {
  // Members of seqs fromSeq..toSeq start with `<conversation>:<seq>:`, seqs zero-padded
  // so that their order is the numbers'; ';' is the character after ':'.
  pipeline.zremrangebylex(keys.deliveryQueue(userId), `[${conversationId}:${padSeq(fromSeq)}:`, `(${conversationId}:${padSeq(toSeq)};`);
}

export function enqueueOffline(pipeline: ChainableCommander, keys: RedisKeys, userId: string, member: string, cap = DEFAULT_QUEUE_CAP): void {
  pipeline.eval(ENQUEUE_SCRIPT, 1, keys.deliveryQueue(userId), String(cap), member, String(DELIVERY_QUEUE_TTL_S));
}

/**
 * Queues the entry only if the user is connected nowhere, deciding and writing in
 * one atomic step: otherwise a user connecting between a presence read and a
 * queue write (the gateway records presence, then reads the queue) would get the
 * message neither live nor queued. Presence fields count only for the live nodes
 * given, in their current incarnation (store/presence.ts). Returns the live nodes
 * the user is connected to: empty means queued (or the queue was full).
 */
const ENQUEUE_IF_OFFLINE_SCRIPT = `
local live = {}
for i = 4, #ARGV, 2 do live[ARGV[i]] = ARGV[i + 1] end
local fields = redis.call('HGETALL', KEYS[1])
local nodes = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  if string.sub(f, 1, 2) == 'n:' then
    local node = string.sub(f, 3)
    local count, incarnation = string.match(fields[i + 1], '^(%d+)@(.+)$')
    if live[node] ~= nil and incarnation == live[node] and tonumber(count) > 0 then table.insert(nodes, node) end
  end
end
if #nodes > 0 then return nodes end
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[1]) then redis.call('ZADD', KEYS[2], 0, ARGV[2]) end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return nodes`;

export function enqueueIfOffline(
  pipeline: ChainableCommander,
  keys: RedisKeys,
  userId: string,
  member: string,
  liveNodes: ReadonlyMap<string, string>,
  cap = DEFAULT_QUEUE_CAP,
): void {
  const live: string[] = [];
  for (const [node, incarnation] of liveNodes) live.push(node, incarnation);
  pipeline.eval(ENQUEUE_IF_OFFLINE_SCRIPT, 2, keys.presenceUser(userId), keys.deliveryQueue(userId), String(cap), member, String(DELIVERY_QUEUE_TTL_S), ...live);
}

/** Removes every queued event of the conversation up to and including seq. */
export function acknowledgeQueued(pipeline: ChainableCommander, keys: RedisKeys, userId: string, conversationId: string, upToSeq: number): void {
  pipeline.zremrangebylex(keys.deliveryQueue(userId), `[${conversationId}:`, `[${conversationId}:${padSeq(upToSeq)}:\xff`);
}

export async function readQueue(redis: Redis, keys: RedisKeys, userId: string, limit = 10_000): Promise<QueuedEvent[]> {
  const members = await redis.zrange(keys.deliveryQueue(userId), '0', String(limit - 1));
  return members.map(parseQueueMember);
}
