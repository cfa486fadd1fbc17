-- Up Migration
-- The seed's §11: per-conversation retention and the archival of inactive
-- conversations. Two fixes, both in docs/schema.md:
--  * cleanup_expired_messages: the seed's UPDATE ... RETURNING has no INTO, which
--    PL/pgSQL rejects at run time ("query has no destination for result data");
--    the row count comes from GET DIAGNOSTICS, so RETURNING is dropped.
--  * archive_inactive_conversations: the final UPDATE only touches conversations
--    still active, so a run does not rewrite (and re-stamp updated_at on) every
--    conversation archived by earlier runs.

CREATE TABLE retention_policies (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    retention_days INTEGER,
    retain_media_days INTEGER,
    auto_delete_for_everyone BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
    UNIQUE (conversation_id)
);

CREATE OR REPLACE FUNCTION cleanup_expired_messages()
RETURNS INTEGER AS $$
DECLARE
    deleted_count INTEGER;
BEGIN
    WITH to_delete AS (
        SELECT m.id
        FROM messages m
        JOIN retention_policies rp ON m.conversation_id = rp.conversation_id
        WHERE
            rp.retention_days IS NOT NULL
            AND m.sent_at < (NOW() - (rp.retention_days || ' days')::INTERVAL)
            AND NOT m.is_deleted
    )
    UPDATE messages m
    SET is_deleted = TRUE,
        delete_for_everyone = (
            SELECT rp.auto_delete_for_everyone
            FROM retention_policies rp
            WHERE rp.conversation_id = m.conversation_id
        )
    FROM to_delete
    WHERE m.id = to_delete.id;

    GET DIAGNOSTICS deleted_count = ROW_COUNT;
    RETURN deleted_count;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE archived_conversations (
    id UUID PRIMARY KEY,
    conversation_data JSONB NOT NULL,
    archived_at TIMESTAMP NOT NULL DEFAULT NOW(),
    last_activity_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_archived_conversations_last_activity ON archived_conversations(last_activity_at);

CREATE OR REPLACE PROCEDURE archive_inactive_conversations(inactive_days INTEGER)
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO archived_conversations (id, conversation_data, last_activity_at)
    SELECT
        c.id,
        jsonb_build_object(
            'type', c.type,
            'external_group_id', c.external_group_id,
            'metadata', c.metadata,
            'created_at', c.created_at,
            'members', (
                SELECT jsonb_agg(jsonb_build_object(
                    'user_id', cm.user_id,
                    'settings', cm.settings,
                    'joined_at', cm.joined_at,
                    'last_read_at', cm.last_read_at
                ))
                FROM conversation_members cm
                WHERE cm.conversation_id = c.id
            )
        ),
        c.updated_at
    FROM conversations c
    WHERE c.updated_at < NOW() - (inactive_days || ' days')::INTERVAL
    AND NOT EXISTS (
        SELECT 1 FROM archived_conversations ac WHERE ac.id = c.id
    );

    UPDATE conversations c
    SET is_active = FALSE
    FROM archived_conversations ac
    WHERE c.id = ac.id
      AND c.is_active;
END;
$$;

-- Down Migration
DROP PROCEDURE IF EXISTS archive_inactive_conversations(INTEGER);
DROP TABLE IF EXISTS archived_conversations;
DROP FUNCTION IF EXISTS cleanup_expired_messages();
DROP TABLE IF EXISTS retention_policies;
