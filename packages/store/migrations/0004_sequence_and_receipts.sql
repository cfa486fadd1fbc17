-- Up Migration
-- What the actor design needs on top of the seed (DESIGN.md, docs/schema.md).
-- 0001-0003 ship together with this file, so the NOT NULL columns without a
-- default are added to tables that are still empty.

-- Per-conversation sequence. The unique pair is the fence of DESIGN.md
-- invariant 1: a second writer for the same conversation reuses a seq the
-- owner already committed, and its whole batch fails instead of forking the
-- sequence. Its index also serves sync (seq > cursor) and history by seq.
ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL;
ALTER TABLE messages
    ADD CONSTRAINT messages_conversation_id_seq_key UNIQUE (conversation_id, seq);

-- Highest committed seq, so an actor loading a conversation learns where to
-- continue without scanning messages.
ALTER TABLE conversations ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;

-- Roles decide who may add/remove members and edit group metadata.
ALTER TABLE conversation_members
    ADD COLUMN role VARCHAR(10) NOT NULL DEFAULT 'member'
        CONSTRAINT conversation_members_role_check CHECK (role IN ('admin', 'member'));

-- Receipts by seq: one integer per member instead of one timestamp compared
-- with sent_at (sent_at is not unique within a conversation; seq is).
ALTER TABLE conversation_members ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN last_delivered_seq BIGINT NOT NULL DEFAULT 0;

-- Unread = messages after the member's read mark, not their own, not deleted.
-- Same name and signature as the seed's §12.2 function; a missing member row
-- counts everything, as the seed's NULL last_read_at did.
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

-- The seed's per-row trigger updated conversations once per inserted message,
-- which halves the batch writer's throughput. Once per statement, each touched
-- conversation is updated a single time, also advancing last_seq.
DROP TRIGGER message_updates_conversation ON messages;

CREATE OR REPLACE FUNCTION update_conversation_timestamp()
RETURNS TRIGGER AS $$
BEGIN
  UPDATE conversations c
  SET updated_at = NOW(),
      last_seq = GREATEST(c.last_seq, n.max_seq)
  FROM (
      SELECT conversation_id, MAX(seq) AS max_seq
      FROM new_messages
      GROUP BY conversation_id
  ) n
  WHERE c.id = n.conversation_id;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_updates_conversation
AFTER INSERT ON messages
REFERENCING NEW TABLE AS new_messages
FOR EACH STATEMENT EXECUTE FUNCTION update_conversation_timestamp();

-- Down Migration
DROP TRIGGER IF EXISTS message_updates_conversation ON messages;
CREATE OR REPLACE FUNCTION update_conversation_timestamp()
RETURNS TRIGGER AS $$
BEGIN
  UPDATE conversations
  SET updated_at = NOW()
  WHERE id = NEW.conversation_id;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER message_updates_conversation
AFTER INSERT ON messages
FOR EACH ROW EXECUTE PROCEDURE update_conversation_timestamp();
CREATE OR REPLACE FUNCTION count_unread_messages(p_user_id UUID, p_conversation_id UUID)
RETURNS INTEGER AS $$
DECLARE
    v_last_read TIMESTAMP;
    v_count INTEGER;
BEGIN
    SELECT last_read_at INTO v_last_read
    FROM conversation_members
    WHERE user_id = p_user_id AND conversation_id = p_conversation_id;
    SELECT COUNT(*) INTO v_count
    FROM messages
    WHERE
        conversation_id = p_conversation_id
        AND sender_id != p_user_id
        AND (v_last_read IS NULL OR sent_at > v_last_read)
        AND NOT is_deleted;
    RETURN v_count;
END;
$$ LANGUAGE plpgsql;
ALTER TABLE conversation_members DROP COLUMN IF EXISTS last_delivered_seq;
ALTER TABLE conversation_members DROP COLUMN IF EXISTS last_read_seq;
ALTER TABLE conversation_members DROP COLUMN IF EXISTS role;
ALTER TABLE conversations DROP COLUMN IF EXISTS last_seq;
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_conversation_id_seq_key;
ALTER TABLE messages DROP COLUMN IF EXISTS seq;
