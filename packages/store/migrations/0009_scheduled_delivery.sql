-- Up Migration
-- Scheduled messages as issue 10 sends them (docs/operations.md, "Queues"): the
-- message keeps sched.create's client_random (so a retried send is the same
-- message, by the (sender_id, client_random) idempotency of msg.send), records
-- which message delivered it, and a send that cannot happen (the sender is no
-- longer a member at the due time) is marked failed with its reason instead of
-- being retried for ever.
ALTER TABLE scheduled_messages ADD COLUMN client_random INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scheduled_messages ALTER COLUMN client_random DROP DEFAULT;
ALTER TABLE scheduled_messages ADD COLUMN message_id UUID;
ALTER TABLE scheduled_messages ADD COLUMN failed_at TIMESTAMP;
ALTER TABLE scheduled_messages ADD COLUMN failure TEXT;
-- sched.create is idempotent per (sender, client_random), as msg.send is.
CREATE UNIQUE INDEX idx_scheduled_messages_sender_client_random ON scheduled_messages(sender_id, client_random);
-- sched.list: a sender's pending ones.
CREATE INDEX idx_scheduled_messages_pending ON scheduled_messages(sender_id, scheduled_for)
  WHERE NOT is_sent AND NOT is_cancelled AND failed_at IS NULL;

-- Down Migration
DROP INDEX IF EXISTS idx_scheduled_messages_pending;
DROP INDEX IF EXISTS idx_scheduled_messages_sender_client_random;
ALTER TABLE scheduled_messages DROP COLUMN IF EXISTS failure;
ALTER TABLE scheduled_messages DROP COLUMN IF EXISTS failed_at;
ALTER TABLE scheduled_messages DROP COLUMN IF EXISTS message_id;
ALTER TABLE scheduled_messages DROP COLUMN IF EXISTS client_random;
