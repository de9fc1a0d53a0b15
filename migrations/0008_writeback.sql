-- Write-back: changes made on the board (resolve, unresolve, ignore, assign)
-- are applied to the card at once and pushed to Sentry by a queue job.
-- writeback_status / writeback_assignee flag which fields still have to
-- reach Sentry; while a push is pending or retrying, deliveries and the
-- cron sync leave those fields alone, so the board does not flicker back to
-- Sentry's old state. writeback_at is the time of the newest board change:
-- a job for an older change does nothing.
ALTER TABLE cards ADD COLUMN writeback_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN writeback_assignee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN writeback_state TEXT CHECK (writeback_state IN ('pending', 'retrying', 'failed'));
ALTER TABLE cards ADD COLUMN writeback_error TEXT;
ALTER TABLE cards ADD COLUMN writeback_at TEXT;
