-- Up Migration
-- Seed §5.3 asks for an audit trail of critical events (conversations created or
-- deleted, settings changed, members added or removed) and §5.2 for blocks
-- between users to be respected; neither has a table in §8.1.

CREATE TABLE audit_log (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    occurred_at TIMESTAMP NOT NULL DEFAULT NOW(),
    -- NULL when the system acted (retention, archival jobs).
    actor_id UUID,
    -- Not a foreign key: the trail must outlive a deleted conversation.
    conversation_id UUID,
    action VARCHAR(50) NOT NULL,
    details JSONB NOT NULL DEFAULT '{}'
);

-- A conversation's history, newest first; and time-range scans for pruning.
CREATE INDEX idx_audit_log_conversation_id_occurred_at ON audit_log(conversation_id, occurred_at);
CREATE INDEX idx_audit_log_occurred_at ON audit_log(occurred_at);

CREATE TABLE user_blocks (
    blocker_id UUID NOT NULL,
    blocked_id UUID NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    PRIMARY KEY (blocker_id, blocked_id)
);

-- "Who blocks me?" for checks in the other direction; the primary key covers
-- "whom do I block?".
CREATE INDEX idx_user_blocks_blocked_id ON user_blocks(blocked_id);

-- Down Migration
DROP TABLE IF EXISTS user_blocks;
DROP TABLE IF EXISTS audit_log;
