-- The jobs page keeps the newest 5,000 rows of done jobs
-- (store::installations::JOB_ROWS). The trim runs inside every 16th insert,
-- by the row's own rowid, instead of as a statement of every job's
-- settlement: each statement of a batch costs the local D1 a prepare.
-- Rows that did not end done (failed, retrying, dead) are never trimmed.
CREATE TRIGGER IF NOT EXISTS jobs_trim AFTER INSERT ON jobs
WHEN NEW.rowid % 16 = 0
BEGIN
    DELETE FROM jobs WHERE status = 'done' AND rowid <= NEW.rowid - 5000;
END;
