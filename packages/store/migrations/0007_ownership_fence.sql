-- Up Migration
-- The ownership fence of DESIGN.md invariant 1 ("The cluster": Fencing). An
-- actor claims its conversation when it loads it (owner_epoch + 1); every batch
-- of writes calls whispr_fence with the epochs its actors claimed, inside the
-- statement or transaction that writes, so a former owner's batch (a paused or
-- partitioned node) fails in PostgreSQL instead of committing. docs/schema.md,
-- "Ownership fence", says why this is sound under READ COMMITTED.

-- 0: never claimed (rows from before this migration). The actor that creates a
-- conversation inserts it with epoch 1, claimed.
ALTER TABLE conversations ADD COLUMN owner_epoch BIGINT NOT NULL DEFAULT 0;
-- Which shard slot ('<node id>#<index>') made the latest claim: for operators, never checked.
ALTER TABLE conversations ADD COLUMN owner_node TEXT;

-- A claim is not activity: the seed's BEFORE UPDATE trigger would stamp
-- updated_at, and conv.list orders by it, so a conversation would jump to the
-- top of its members' lists whenever an actor loaded it.
DROP TRIGGER update_conversations_timestamp ON conversations;
CREATE TRIGGER update_conversations_timestamp
BEFORE UPDATE ON conversations
FOR EACH ROW
WHEN (OLD.owner_epoch IS NOT DISTINCT FROM NEW.owner_epoch)
EXECUTE FUNCTION update_timestamp();

-- Raises SQLSTATE WF001 unless every conversation in p_ids exists with exactly
-- the epoch at the same position of p_epochs (the DETAIL lists the ids that do
-- not: stale or missing); returns how many were checked. The writer passes
-- each conversation once.
--
-- The rows are locked FOR NO KEY UPDATE, in id order, until the batch ends. A
-- claim is an UPDATE of non-key columns, which takes the same lock, so the two
-- conflict: either the claim committed first and this locking read returns its
-- epoch (under READ COMMITTED a locking read follows the update chain to the
-- newest version), or this batch locked first and the claim waits until the
-- batch has committed or rolled back. FOR SHARE would conflict with the claim
-- too; FOR KEY SHARE (what the messages foreign key takes) would not. NO KEY
-- UPDATE is the mode the statement trigger's UPDATE of the same rows needs at
-- the end of the batch, so every lock a batch takes on conversations is taken
-- here, in one order: a share lock upgraded later by the trigger, in the
-- trigger's own order, could deadlock with another batch holding the same rows.
CREATE FUNCTION whispr_fence(p_ids UUID[], p_epochs INT8[])
RETURNS INTEGER AS $$
DECLARE
    v_stale TEXT;
    v_found INTEGER;
BEGIN
    -- One index probe per id (a join of the inputs to the table, not a scan).
    WITH locked AS (
        SELECT c.id, c.owner_epoch, q.epoch
        FROM unnest(p_ids, p_epochs) AS q(id, epoch)
        JOIN conversations c ON c.id = q.id
        ORDER BY c.id
        FOR NO KEY UPDATE OF c
    )
    SELECT string_agg(id::TEXT, ',' ORDER BY id) FILTER (WHERE owner_epoch <> epoch), count(*)
    INTO v_stale, v_found
    FROM locked;

    IF v_found < cardinality(p_ids) THEN
        -- Only on failure: name the ids that have no row (deleted conversations).
        SELECT concat_ws(',', v_stale, string_agg(q.id::TEXT, ',' ORDER BY q.id))
        INTO v_stale
        FROM unnest(p_ids) AS q(id)
        WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = q.id);
    END IF;

    IF v_stale IS NOT NULL AND v_stale <> '' THEN
        RAISE EXCEPTION 'fenced: another owner has claimed conversation(s) %', v_stale
            USING ERRCODE = 'WF001', DETAIL = v_stale,
                  HINT = 'the writer''s claim is stale: reload (claim again) only if it still owns the conversation';
    END IF;
    RETURN v_found;
END;
$$ LANGUAGE plpgsql;

-- Down Migration
DROP FUNCTION IF EXISTS whispr_fence(UUID[], INT8[]);
DROP TRIGGER IF EXISTS update_conversations_timestamp ON conversations;
CREATE TRIGGER update_conversations_timestamp
BEFORE UPDATE ON conversations
FOR EACH ROW EXECUTE FUNCTION update_timestamp();
ALTER TABLE conversations DROP COLUMN IF EXISTS owner_node;
ALTER TABLE conversations DROP COLUMN IF EXISTS owner_epoch;
