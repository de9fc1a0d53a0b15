-- Issue 20, part 3: Sentry's lanes on the board. A card keeps Sentry's
-- priority (`high`/`medium`/`low`; an unknown value is kept as text, capped
-- by the worker) beside the substatus it already has, and the board can ask
-- Sentry to archive an issue until it escalates: `writeback_substatus` says
-- the pending status change carries a substatus too (0008's
-- `writeback_status` pattern).
ALTER TABLE cards ADD COLUMN priority TEXT;
ALTER TABLE cards ADD COLUMN writeback_substatus INTEGER NOT NULL DEFAULT 0;
