-- GitHub sync hardening (issues 16 and 17).
--
-- 1. github_sync is keyed on (X-GitHub-Delivery, SHA-256 of the raw body):
--    the delivery id is unsigned, so a captured body sent under another id
--    must not pre-claim that id, and a different signed body under a reused
--    id must not be swallowed as a duplicate. Rows from before this
--    migration keep an empty digest, which is also what their in-flight
--    queue messages carry. New statuses: 'conflict' (the Sentry team
--    existed and is not ours) and 'unmanaged' (no team this worker manages).
--    `github_org` is the organization login from the payload, needed to read
--    a member's organization-verified emails.
-- 2. github_teams records who owns the Sentry team: 'owned' (this worker
--    created it, 201), 'linked' (pre-existing, linked on purpose through
--    GITHUB_LINK_TEAMS), 'conflict' (pre-existing, never written to). Rows
--    mapped before this migration are NULL: unknown, so not managed until
--    linked, since some may be teams taken over through a 409.

CREATE TABLE github_sync_keyed (
    delivery_id TEXT NOT NULL,
    body_sha256 TEXT NOT NULL DEFAULT '',
    event       TEXT NOT NULL,
    action      TEXT NOT NULL,
    team_id     TEXT,
    team_slug   TEXT,
    login       TEXT,
    github_org  TEXT,
    status      TEXT NOT NULL
        CHECK (status IN ('queued', 'done', 'noop', 'unmapped', 'dry_run', 'retrying', 'failed', 'dead',
                          'conflict', 'unmanaged')),
    detail      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (delivery_id, body_sha256)
);

-- In rowid order, so arrival order (the "superseded" check) is kept.
INSERT INTO github_sync_keyed
    (delivery_id, body_sha256, event, action, team_id, team_slug, login, status, detail, attempts, received_at,
     updated_at)
SELECT delivery_id, '', event, action, team_id, team_slug, login, status, detail, attempts, received_at, updated_at
FROM github_sync ORDER BY rowid;

DROP TABLE github_sync;
ALTER TABLE github_sync_keyed RENAME TO github_sync;

CREATE INDEX IF NOT EXISTS github_sync_by_team ON github_sync (team_id, event, login);
CREATE INDEX IF NOT EXISTS github_sync_by_login ON github_sync (login, status);

ALTER TABLE github_teams ADD COLUMN ownership TEXT CHECK (ownership IN ('owned', 'linked', 'conflict'));
