-- Up Migration
-- PROTOCOL.md §5: system messages (membership changes, recorded by the service)
-- are never unread. conv.list counts with its own query (conversation-repo.ts);
-- the seed's §12.2 function, kept for operators and jobs, counts the same way.
CREATE OR REPLACE FUNCTION count_unread_messages(p_user_id UUID, p_conversation_id UUID)
RETURNS INTEGER AS $$
DECLARE
    v_last_read_seq BIGINT;
    v_count INTEGER;
BEGIN
    SELECT last_read_seq INTO v_last_read_seq
    FROM conversation_members
    WHERE user_id = p_user_id AND conversation_id = p_conversation_id;

    SELECT COUNT(*) INTO v_count
    FROM messages
    WHERE
        conversation_id = p_conversation_id
        AND seq > COALESCE(v_last_read_seq, 0)
        AND sender_id != p_user_id
        AND NOT is_deleted
        AND message_type <> 'system';

    RETURN v_count;
END;
$$ LANGUAGE plpgsql STABLE;

-- Down Migration
CREATE OR REPLACE FUNCTION count_unread_messages(p_user_id UUID, p_conversation_id UUID)
RETURNS INTEGER AS $$
DECLARE
    v_last_read_seq BIGINT;
    v_count INTEGER;
BEGIN
    SELECT last_read_seq INTO v_last_read_seq
    FROM conversation_members
    WHERE user_id = p_user_id AND conversation_id = p_conversation_id;

    SELECT COUNT(*) INTO v_count
    FROM messages
    WHERE
        conversation_id = p_conversation_id
        AND seq > COALESCE(v_last_read_seq, 0)
        AND sender_id != p_user_id
        AND NOT is_deleted;

    RETURN v_count;
END;
$$ LANGUAGE plpgsql STABLE;
