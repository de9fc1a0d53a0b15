-- Issue 20 part 6: GitHub teams reconciled, not only mirrored. Webhooks
-- are hints; GitHub's API is the truth. A daily (or manual) run lists the
-- organization's teams and their members and corrects what the webhooks
-- missed through the same queue jobs.

-- Who the worker has put on the Sentry team of a GitHub team: one row per
-- login whose last membership job for the team added it (`done`); removed
-- again when a job takes it off. The reconcile compares GitHub's member list
-- with these rows, so a Sentry team member the worker did not add is never
-- taken off.
CREATE TABLE IF NOT EXISTS github_members (
    github_team_id TEXT NOT NULL,
    login          TEXT NOT NULL COLLATE NOCASE,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (github_team_id, login)
);

-- What the worker did before this table existed: the newest finished
-- membership event per team and login, where it added the login.
INSERT OR IGNORE INTO github_members (github_team_id, login, updated_at)
SELECT s.team_id, s.login, s.updated_at FROM github_sync AS s
WHERE s.event = 'membership' AND s.status = 'done' AND s.action = 'added' AND s.team_id IS NOT NULL
    AND s.login IS NOT NULL
    AND s.rowid = (SELECT MAX(n.rowid) FROM github_sync AS n
        WHERE n.event = 'membership' AND n.status = 'done' AND n.team_id = s.team_id
            AND n.login = s.login COLLATE NOCASE);

-- One row per reconcile run. A run is leased (`lease_until`): one runs at a
-- time, and a run whose messages were lost is closed when its lease runs out.
-- The counts are what the run found (and, unless `dry_run`, queued jobs to
-- correct): GitHub teams with no Sentry team, teams renamed without their
-- `edited` event, members on GitHub the worker never added, members the
-- worker added who are no longer on the GitHub team.
CREATE TABLE IF NOT EXISTS github_reconciles (
    id              TEXT PRIMARY KEY,
    github_org      TEXT NOT NULL,
    trigger         TEXT NOT NULL,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    teams           INTEGER NOT NULL DEFAULT 0,
    teams_missing   INTEGER NOT NULL DEFAULT 0,
    teams_renamed   INTEGER NOT NULL DEFAULT 0,
    members_missing INTEGER NOT NULL DEFAULT 0,
    members_extra   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    lease_until     TEXT NOT NULL,
    finished_at     TEXT
);

CREATE INDEX IF NOT EXISTS github_reconciles_by_status ON github_reconciles (status, finished_at);
