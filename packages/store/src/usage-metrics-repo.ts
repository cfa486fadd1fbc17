/**
 * usage_metrics snapshots (seed §13.1): what PostgreSQL knows is counted here
 * in one statement; the p95 delivery latency is what the nodes measured
 * (delivery-latency.ts), passed in by the caller.
 *
 * Users are the user-service's (seed §4.1): "users" here are those this service
 * has seen, members of at least one conversation; "active" ones sent a message.
 * System messages are the service's own and are not counted as messages sent.
 */
import { msToTimestamp, type Queryable } from './queryable.ts';

export interface UsageSnapshot {
  metricTime: number;
  totalConversations: number;
  activeConversations24h: number;
  messagesSent1h: number;
  totalUsers: number;
  activeUsers24h: number;
  avgMessageSizeBytes: number;
  p95MessageDeliveryMs: number;
}

/** Inserts a snapshot taken at `at` (ms) and returns it. */
export async function insertUsageSnapshot(db: Queryable, at: number, p95MessageDeliveryMs: number): Promise<UsageSnapshot> {
  const now = msToTimestamp('$1');
  const { rows } = await db.query<{
    total_conversations: number; active_conversations_24h: number; messages_sent_1h: number; total_users: number;
    active_users_24h: number; avg_message_size_bytes: number; p95_message_delivery_ms: number;
  }>(
    `WITH hour AS (
       SELECT count(*)::int AS n, COALESCE(round(avg(octet_length(content))), 0)::int AS avg_size
       FROM messages WHERE sent_at >= ${now} - INTERVAL '1 hour' AND sent_at < ${now} AND message_type <> 'system'
     )
     INSERT INTO usage_metrics (metric_time, total_conversations, active_conversations_24h, messages_sent_1h, total_users,
                                active_users_24h, avg_message_size_bytes, p95_message_delivery_ms)
     SELECT ${now},
            (SELECT count(*)::int FROM conversations),
            (SELECT count(*)::int FROM conversations WHERE updated_at >= ${now} - INTERVAL '24 hours'),
            hour.n,
            (SELECT count(DISTINCT user_id)::int FROM conversation_members),
            (SELECT count(DISTINCT sender_id)::int FROM messages
             WHERE sent_at >= ${now} - INTERVAL '24 hours' AND sent_at < ${now} AND message_type <> 'system'),
            hour.avg_size,
            $2
     FROM hour
     RETURNING total_conversations, active_conversations_24h, messages_sent_1h, total_users, active_users_24h,
               avg_message_size_bytes, p95_message_delivery_ms`,
    [at, Math.max(0, Math.min(2_147_483_647, Math.round(p95MessageDeliveryMs)))],
  );
  const r = rows[0];
  if (r === undefined) throw new Error('the usage_metrics insert returned no row');
  return {
    metricTime: at,
    totalConversations: r.total_conversations,
    activeConversations24h: r.active_conversations_24h,
    messagesSent1h: r.messages_sent_1h,
    totalUsers: r.total_users,
    activeUsers24h: r.active_users_24h,
    avgMessageSizeBytes: r.avg_message_size_bytes,
    p95MessageDeliveryMs: r.p95_message_delivery_ms,
  };
}
