-- Issue 20: webhook health. What each sync found that the webhooks had
-- missed (counted before the sync corrects it), and whether the Sentry
-- webhooks have gone silent.

-- Per run: issues with no card, cards whose status differed from Sentry's,
-- cards whose assignee differed. Each issue counts at most once per kind per
-- run (they are counted from `sync_drift` rows of the run, one per issue).
ALTER TABLE sync_runs ADD COLUMN drift_missing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN drift_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN drift_assignee INTEGER NOT NULL DEFAULT 0;

-- One row per issue a sync found drifted, the newest finding. `changed_at`:
-- when the change happened as far as the worker can tell (the issue's
-- firstSeen for a missing card; the time a sync first saw the drift for a
-- status or assignee), kept while no verified Sentry delivery has arrived
-- since it (the silence alarm's evidence); `seen_at`: when a sync last saw it.
CREATE TABLE IF NOT EXISTS sync_drift (
    issue_id   TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL,
    missing    INTEGER NOT NULL DEFAULT 0,
    status     INTEGER NOT NULL DEFAULT 0,
    assignee   INTEGER NOT NULL DEFAULT 0,
    -- 0 when the finding alone does not show the webhooks silent (an
    -- unassignment: Sentry sends no webhook for it).
    evidence   INTEGER NOT NULL DEFAULT 0,
    changed_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS sync_drift_by_run ON sync_drift (run_id);
CREATE INDEX IF NOT EXISTS sync_drift_by_change ON sync_drift (changed_at);

-- The newest verified delivery of a source, without scanning the log.
CREATE INDEX IF NOT EXISTS deliveries_by_source_time ON deliveries (source, received_at);

-- The alarm state last logged, per source, so that a rise and a fall are
-- each logged once (by whichever of a sync's end or a health read sees it).
CREATE TABLE IF NOT EXISTS webhook_alarms (
    source     TEXT PRIMARY KEY,
    alarm      INTEGER NOT NULL,
    reason     TEXT,
    changed_at TEXT NOT NULL
);
