-- GitHub → Sentry team sync: the team map, the explicit login → member
-- mapping, and one row per GitHub delivery (the redelivery dedupe and the
-- sync status at /api/github/sync).

-- GitHub team id → the Sentry team it is mirrored to. 'deleted' is final:
-- GitHub never reuses a team id, so a late created/edited cannot revive it.
CREATE TABLE IF NOT EXISTS github_teams (
    github_team_id TEXT PRIMARY KEY,
    github_slug    TEXT,
    sentry_org     TEXT NOT NULL,
    sentry_slug    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('active', 'deleted')),
    updated_at     TEXT NOT NULL
);

-- Explicit mappings, edited with PUT/DELETE /api/github/users/{login} or
-- `wrangler d1 execute`. A member id is used as is; an email is looked up
-- in Sentry's member search. Logins compare case-insensitively, as on GitHub.
CREATE TABLE IF NOT EXISTS github_users (
    login      TEXT PRIMARY KEY COLLATE NOCASE,
    member_id  TEXT,
    email      TEXT,
    updated_at TEXT NOT NULL,
    CHECK (member_id IS NOT NULL OR email IS NOT NULL)
);

-- One row per team/membership delivery, keyed by X-GitHub-Delivery (the
-- same on redelivery). The rowid gives arrival order: a job whose event is
-- superseded by a newer one for the same team (and login) does nothing.
CREATE TABLE IF NOT EXISTS github_sync (
    delivery_id TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    action      TEXT NOT NULL,
    team_id     TEXT,
    team_slug   TEXT,
    login       TEXT,
    status      TEXT NOT NULL
        CHECK (status IN ('queued', 'done', 'noop', 'unmapped', 'dry_run', 'retrying', 'failed', 'dead')),
    detail      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS github_sync_by_team ON github_sync (team_id, event, login);
CREATE INDEX IF NOT EXISTS github_sync_by_login ON github_sync (login, status);
