-- Up Migration
-- The seed's §12.2 unread counter, §12.3 indexes and §13.1 metrics. The unread
-- counter is redefined by seq in 0004 (receipts are kept by seq).

CREATE OR REPLACE FUNCTION count_unread_messages(p_user_id UUID, p_conversation_id UUID)
RETURNS INTEGER AS $$
DECLARE
    v_last_read TIMESTAMP;
    v_count INTEGER;
BEGIN
    SELECT last_read_at INTO v_last_read
    FROM conversation_members
    WHERE user_id = p_user_id AND conversation_id = p_conversation_id;

    IF v_last_read IS NULL THEN
        SELECT COUNT(*) INTO v_count
        FROM messages
        WHERE
            conversation_id = p_conversation_id
            AND sender_id != p_user_id
            AND NOT is_deleted;
        RETURN v_count;
    END IF;

    SELECT COUNT(*) INTO v_count
    FROM messages
    WHERE
        conversation_id = p_conversation_id
        AND sender_id != p_user_id
        AND sent_at > v_last_read
        AND NOT is_deleted;

    RETURN v_count;
END;
$$ LANGUAGE plpgsql;

CREATE INDEX idx_messages_metadata_gin ON messages USING GIN (metadata jsonb_path_ops);

CREATE INDEX idx_delivery_composite ON delivery_statuses(message_id, user_id, read_at);

CREATE INDEX idx_messages_active ON messages(conversation_id, sent_at)
WHERE NOT is_deleted;

CREATE TABLE usage_metrics (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    metric_time TIMESTAMP NOT NULL DEFAULT NOW(),
    total_conversations INTEGER NOT NULL,
    active_conversations_24h INTEGER NOT NULL,
    messages_sent_1h INTEGER NOT NULL,
    total_users INTEGER NOT NULL,
    active_users_24h INTEGER NOT NULL,
    avg_message_size_bytes INTEGER NOT NULL,
    p95_message_delivery_ms INTEGER NOT NULL
);

CREATE INDEX idx_usage_metrics_time ON usage_metrics(metric_time);

CREATE VIEW conversation_activity AS
SELECT
    date_trunc('day', sent_at) AS day,
    COUNT(DISTINCT conversation_id) AS active_conversations,
    COUNT(*) AS message_count,
    COUNT(DISTINCT sender_id) AS active_users
FROM messages
WHERE sent_at > NOW() - INTERVAL '30 days'
GROUP BY day
ORDER BY day DESC;

-- Down Migration
DROP VIEW IF EXISTS conversation_activity;
DROP TABLE IF EXISTS usage_metrics;
DROP INDEX IF EXISTS idx_messages_active;
DROP INDEX IF EXISTS idx_delivery_composite;
DROP INDEX IF EXISTS idx_messages_metadata_gin;
DROP FUNCTION IF EXISTS count_unread_messages(UUID, UUID);
