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

export function enqueueOffline(pipeline: ChainableCommander, keys: RedisKeys, userId: string, member: string): void {
  const key = keys.deliveryQueue(userId);
  pipeline.zadd(key, 0, member);
  pipeline.expire(key, DELIVERY_QUEUE_TTL_S);
}

/** Removes every queued event of the conversation up to and including seq. */
export function acknowledgeQueued(pipeline: ChainableCommander, keys: RedisKeys, userId: string, conversationId: string, upToSeq: number): void {
  pipeline.zremrangebylex(keys.deliveryQueue(userId), `[${conversationId}:`, `[${conversationId}:${padSeq(upToSeq)}:\xff`);
}

export async function readQueue(redis: Redis, keys: RedisKeys, userId: string, limit = 10_000): Promise<QueuedEvent[]> {
  const members = await redis.zrange(keys.deliveryQueue(userId), '0', String(limit - 1));
  return members.map(parseQueueMember);
}
