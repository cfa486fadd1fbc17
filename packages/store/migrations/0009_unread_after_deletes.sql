-- Up Migration
-- Unread counting after deletes (PROTOCOL.md §5 "Details"): a message deleted
-- for everyone (a tombstone) is not unread; a message its sender deleted for
-- themselves alone (is_deleted without delete_for_everyone, seed §2.2.3) stays
-- unread for the others; system messages are never unread. conv.list counts the
-- same way in its own query (store/src/message-visibility.ts, countsAsUnread).
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
        AND NOT (is_deleted AND delete_for_everyone)
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
