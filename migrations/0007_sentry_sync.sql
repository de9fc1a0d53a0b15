-- The cron sync of every Sentry issue of the last 30 days: one row per run
-- (what /api/sync/status shows), and one lease per organization so a run
-- never overlaps another for the same organization.

CREATE TABLE IF NOT EXISTS sync_runs (
    id                TEXT PRIMARY KEY,
    org_slug          TEXT NOT NULL,
    installation_uuid TEXT,
    trigger           TEXT NOT NULL,                  -- 'cron' | 'manual'
    status            TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    pages             INTEGER NOT NULL DEFAULT 0,
    issues            INTEGER NOT NULL DEFAULT 0,
    errors            INTEGER NOT NULL DEFAULT 0,     -- failed page attempts (retried)
    last_error        TEXT,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    updated_at        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS sync_runs_by_start ON sync_runs (started_at DESC);

-- Held by the running run until it finishes; a lease past lease_until is
-- free again (a run that died cannot block the next one for long).
CREATE TABLE IF NOT EXISTS sync_leases (
    org_slug    TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    lease_until TEXT NOT NULL
);
