//! SQL for installations, their tokens and members, issue links and queue
//! jobs (schema: migrations/0004_installations.sql).

use crate::sql::{SqlValue, Stmt};

/// What installation.created tells us.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Installation {
    pub uuid: String,
    pub org_slug: Option<String>,
    pub org_id: Option<String>,
    pub app_slug: Option<String>,
    /// 'pending' | 'installed', as Sentry reports it.
    pub status: String,
    pub mode: &'static str,
    pub grant_code: Option<String>,
}

/// Records an installation. Order-guarded, and 'deleted' is final: a
/// retried created delivery (re-signed with a newer timestamp) cannot bring
/// an uninstalled organization back. 'installed' is never downgraded to
/// 'pending'. The grant code is kept only while no token exists.
const UPSERT_INSTALLATION: &str = "\
INSERT INTO installations (uuid, org_slug, org_id, app_slug, status, mode, grant_code, applied_at, created_at,
    updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6,
    CASE WHEN EXISTS (SELECT 1 FROM installation_tokens WHERE installation_uuid = ?1) THEN NULL ELSE ?7 END,
    ?8, ?9, ?9)
ON CONFLICT (uuid) DO UPDATE SET
    org_slug = COALESCE(excluded.org_slug, installations.org_slug),
    org_id = COALESCE(excluded.org_id, installations.org_id),
    app_slug = COALESCE(excluded.app_slug, installations.app_slug),
    status = CASE WHEN installations.status = 'installed' THEN 'installed' ELSE excluded.status END,
    mode = excluded.mode,
    grant_code = COALESCE(excluded.grant_code, installations.grant_code),
    applied_at = excluded.applied_at,
    updated_at = excluded.updated_at
WHERE installations.status != 'deleted' AND excluded.applied_at >= installations.applied_at";

/// installation.deleted: the row stays (cards keep their organization), its
/// status is final, and the grant code and tokens go.
const DELETE_INSTALLATION: &str = "\
INSERT INTO installations (uuid, org_slug, org_id, app_slug, status, mode, grant_code, applied_at, created_at,
    updated_at)
VALUES (?1, ?2, ?3, ?4, 'deleted', ?5, NULL, ?6, ?7, ?7)
ON CONFLICT (uuid) DO UPDATE SET
    org_slug = COALESCE(excluded.org_slug, installations.org_slug),
    status = 'deleted',
    grant_code = NULL,
    applied_at = MAX(installations.applied_at, excluded.applied_at),
    updated_at = excluded.updated_at";

const DELETE_TOKENS: &str = "DELETE FROM installation_tokens WHERE installation_uuid = ?1";

/// Internal-integration mode: the first delivery from an installation
/// records it under the configured organization.
const ENSURE_INTERNAL: &str = "\
INSERT INTO installations (uuid, org_slug, status, mode, applied_at, created_at, updated_at)
VALUES (?1, ?2, 'installed', 'internal', '1970-01-01T00:00:00.000Z', ?3, ?3)
ON CONFLICT (uuid) DO NOTHING";

pub fn upsert_installation(i: &Installation, applied_at: &str, now: &str) -> Stmt {
    Stmt {
        sql: UPSERT_INSTALLATION,
        params: vec![
            i.uuid.as_str().into(),
            i.org_slug.clone().into(),
            i.org_id.clone().into(),
            i.app_slug.clone().into(),
            i.status.as_str().into(),
            i.mode.into(),
            i.grant_code.clone().into(),
            applied_at.into(),
            now.into(),
        ],
    }
}

pub fn delete_installation(i: &Installation, applied_at: &str, now: &str) -> Vec<Stmt> {
    vec![
        Stmt {
            sql: DELETE_INSTALLATION,
            params: vec![
                i.uuid.as_str().into(),
                i.org_slug.clone().into(),
                i.org_id.clone().into(),
                i.app_slug.clone().into(),
                i.mode.into(),
                applied_at.into(),
                now.into(),
            ],
        },
        Stmt { sql: DELETE_TOKENS, params: vec![i.uuid.as_str().into()] },
    ]
}

pub fn ensure_internal(uuid: &str, org_slug: &str, now: &str) -> Stmt {
    Stmt { sql: ENSURE_INTERNAL, params: vec![uuid.into(), org_slug.into(), now.into()] }
}

// ---- Job-side reads and writes --------------------------------------------

/// `?1` uuid → status, mode, grant_code, org_slug.
pub const INSTALLATION: &str = "\
SELECT uuid, status, mode, grant_code, org_slug FROM installations WHERE uuid = ?1";

/// `?1` uuid → what the setup page shows.
pub const INSTALLATION_VIEW: &str =
    "SELECT status, org_slug, COALESCE(needs_reinstall, error) AS error FROM installations WHERE uuid = ?1";

/// `?1` uuid → the stored token, and why it can no longer be refreshed
/// (`needs_reinstall`, NULL while it can).
pub const TOKEN: &str = "\
SELECT t.token, t.refresh_token, t.expires_at, t.refresh_lease_until, i.needs_reinstall
FROM installation_tokens AS t LEFT JOIN installations AS i ON i.uuid = t.installation_uuid
WHERE t.installation_uuid = ?1";

/// Takes the refresh lease (`?1` uuid, `?2` now, `?3` lease end) unless
/// another job holds an unexpired one. A row comes back only to the winner.
pub const CLAIM_REFRESH: &str = "\
UPDATE installation_tokens SET refresh_lease_until = ?3
WHERE installation_uuid = ?1 AND (refresh_lease_until IS NULL OR refresh_lease_until < ?2)
RETURNING refresh_token";

/// Gives the lease back after a failed refresh.
pub const RELEASE_REFRESH: &str = "\
UPDATE installation_tokens SET refresh_lease_until = NULL WHERE installation_uuid = ?1";

/// Stores a token pair and releases the lease. For an exchange the grant
/// code is spent, so it is cleared with the same batch.
const SAVE_TOKEN: &str = "\
INSERT INTO installation_tokens (installation_uuid, token, refresh_token, expires_at, refresh_lease_until, updated_at)
VALUES (?1, ?2, ?3, ?4, NULL, ?5)
ON CONFLICT (installation_uuid) DO UPDATE SET
    token = excluded.token,
    refresh_token = COALESCE(excluded.refresh_token, installation_tokens.refresh_token),
    expires_at = excluded.expires_at,
    refresh_lease_until = NULL,
    updated_at = excluded.updated_at";

/// A fresh exchange also ends a "needs reinstall" state: there is a new pair.
const SPEND_GRANT_CODE: &str = "\
UPDATE installations SET grant_code = NULL, needs_reinstall = NULL, needs_reinstall_at = NULL, updated_at = ?2
WHERE uuid = ?1";

pub fn save_token(uuid: &str, token: &crate::sentry::token::Token, exchanged: bool, now: &str) -> Vec<Stmt> {
    let mut stmts = vec![Stmt {
        sql: SAVE_TOKEN,
        params: vec![
            uuid.into(),
            token.token.as_str().into(),
            token.refresh_token.clone().into(),
            token.expires_at_canonical().into(),
            now.into(),
        ],
    }];
    if exchanged {
        stmts.push(Stmt { sql: SPEND_GRANT_CODE, params: vec![uuid.into(), now.into()] });
    }
    stmts
}

const MARK_INSTALLED: &str = "\
UPDATE installations SET status = 'installed', updated_at = ?2 WHERE uuid = ?1 AND status != 'deleted'";

pub fn mark_installed(uuid: &str, now: &str) -> Stmt {
    Stmt { sql: MARK_INSTALLED, params: vec![uuid.into(), now.into()] }
}

/// The refreshed pair could not be saved: the old refresh token is spent,
/// so only a reinstall helps. Shown as the installation's error too.
const MARK_NEEDS_REINSTALL: &str = "\
UPDATE installations SET needs_reinstall = ?2, needs_reinstall_at = ?3, error = ?2, error_at = ?3, updated_at = ?3
WHERE uuid = ?1 AND status != 'deleted'";

pub fn mark_needs_reinstall(uuid: &str, reason: &str, now: &str) -> Stmt {
    Stmt { sql: MARK_NEEDS_REINSTALL, params: vec![uuid.into(), reason.into(), now.into()] }
}

/// The visible error state of an installation (`NULL` clears it).
const SET_ERROR: &str = "\
UPDATE installations SET error = ?2, error_at = CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END, updated_at = ?3
WHERE uuid = ?1";

pub fn set_error(uuid: &str, error: Option<&str>, now: &str) -> Stmt {
    Stmt { sql: SET_ERROR, params: vec![uuid.into(), error.map(str::to_string).into(), now.into()] }
}

/// One organization member (`GET /organizations/{org}/members/`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Member {
    pub member_id: String,
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

const UPSERT_MEMBER: &str = "\
INSERT INTO members (installation_uuid, member_id, user_id, name, email, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (installation_uuid, member_id) DO UPDATE SET
    user_id = excluded.user_id, name = excluded.name, email = excluded.email, updated_at = excluded.updated_at";

/// After a complete sync, members not seen in it (`updated_at` older than
/// the sync's start) have left the organization.
const PRUNE_MEMBERS: &str = "DELETE FROM members WHERE installation_uuid = ?1 AND updated_at < ?2";

pub fn upsert_member(uuid: &str, m: &Member, now: &str) -> Stmt {
    Stmt {
        sql: UPSERT_MEMBER,
        params: vec![
            uuid.into(),
            m.member_id.as_str().into(),
            m.user_id.clone().into(),
            m.name.clone().into(),
            m.email.clone().into(),
            now.into(),
        ],
    }
}

pub fn prune_members(uuid: &str, sync_started: &str) -> Stmt {
    Stmt { sql: PRUNE_MEMBERS, params: vec![uuid.into(), sync_started.into()] }
}

// ---- Jobs -------------------------------------------------------------------

/// Counts an attempt (`?1` message id, `?2` kind, `?3` installation, `?4`
/// now) and returns the attempt number, 1 for the first delivery.
pub const START_JOB: &str = "\
INSERT INTO jobs (id, kind, installation_uuid, attempts, status, created_at, updated_at)
VALUES (?1, ?2, ?3, 1, 'running', ?4, ?4)
ON CONFLICT (id) DO UPDATE SET attempts = jobs.attempts + 1, status = 'running', updated_at = excluded.updated_at
RETURNING attempts";

/// The attempt `START_JOB` returned; a row without one counts as the first.
pub fn attempt_of(row: Option<&serde_json::Map<String, serde_json::Value>>) -> u32 {
    row.and_then(|r| r.get("attempts").and_then(serde_json::Value::as_f64))
        .map_or(1, |n| n.clamp(1.0, f64::from(u32::MAX)) as u32)
}

const FINISH_JOB: &str = "UPDATE jobs SET status = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1";

/// Records a message that reached the dead-letter queue, whether or not an
/// attempt was recorded for it.
const DEAD_JOB: &str = "\
INSERT INTO jobs (id, kind, installation_uuid, attempts, status, last_error, created_at, updated_at)
VALUES (?1, ?2, ?3, 0, 'dead', ?4, ?5, ?5)
ON CONFLICT (id) DO UPDATE SET status = 'dead', last_error = COALESCE(jobs.last_error, excluded.last_error),
    updated_at = excluded.updated_at";

/// How many done jobs are kept: older ones are trimmed inside every 16th
/// insert (`migrations/0024_jobs_trim.sql`, which repeats the number; the
/// store test of the trim fails if the two drift apart).
pub const JOB_ROWS: i32 = 5_000;

pub fn start_job_params(id: &str, kind: &str, installation: &str, now: &str) -> Vec<SqlValue> {
    vec![id.into(), kind.into(), installation.into(), now.into()]
}

/// `status` is 'done' | 'retrying' | 'failed'.
pub fn finish_job(id: &str, status: &str, error: Option<&str>, now: &str) -> Vec<Stmt> {
    vec![Stmt { sql: FINISH_JOB, params: vec![id.into(), status.into(), error.map(str::to_string).into(), now.into()] }]
}

pub fn dead_job(id: &str, kind: &str, installation: &str, error: &str, now: &str) -> Stmt {
    Stmt { sql: DEAD_JOB, params: vec![id.into(), kind.into(), installation.into(), error.into(), now.into()] }
}

/// The newest record of a job (`?1` message id, or else `?2` kind and `?3`
/// installation): a dead-lettered message may arrive under a new id.
pub const LAST_JOB: &str = "\
SELECT id, attempts, last_error FROM jobs
WHERE id = ?1 OR (kind = ?2 AND installation_uuid = ?3 AND status IN ('retrying', 'running'))
ORDER BY id = ?1 DESC, updated_at DESC LIMIT 1";

pub const LIST_JOBS: &str = "\
SELECT id, kind, installation_uuid AS installation, attempts, status, last_error AS error, created_at, updated_at
FROM jobs ORDER BY updated_at DESC, id LIMIT 200";

/// Installations for `/api/installations`. Tokens are never listed. A
/// "needs reinstall" state outlives the last job's error, so it is what
/// `error` shows while it lasts (the board's banner reads `error`).
pub const LIST_INSTALLATIONS: &str = "\
SELECT i.uuid, i.org_slug, i.org_id, i.app_slug, i.status, i.mode, COALESCE(i.needs_reinstall, i.error) AS error,
    CASE WHEN i.needs_reinstall IS NULL THEN i.error_at ELSE i.needs_reinstall_at END AS error_at,
    i.needs_reinstall, i.needs_reinstall_at, i.created_at, i.updated_at,
    (SELECT COUNT(*) FROM installation_tokens t WHERE t.installation_uuid = i.uuid) AS has_token,
    (SELECT COUNT(*) FROM members m WHERE m.installation_uuid = i.uuid) AS members
FROM installations AS i ORDER BY i.created_at DESC, i.uuid LIMIT 500";

// ---- UI components ------------------------------------------------------------

/// Select options: cards of an installation (`?1`), matching `?2` (a
/// LIKE pattern over short id and title, '%' for all).
pub const OPTION_ITEMS: &str = "\
SELECT id, short_id, title FROM cards
WHERE installation_uuid = ?1 AND (short_id LIKE ?2 ESCAPE '\\' OR title LIKE ?2 ESCAPE '\\')
ORDER BY COALESCE(last_seen, updated_at) DESC, id LIMIT 100";

/// Select options: the installation's members, plus assignees seen on its
/// cards (a user can be assigned before the first member sync). Sentry
/// signs this GET over an empty body, so one captured request replays
/// forever, with any query string: only user ids and display names leave,
/// never an email, and no email is searched. A name that is empty or looks
/// like an email (Sentry's default name) shows as `User <id>`. Pending
/// invites have no user id and cannot be assigned, so they are not offered.
/// When a member and an assignee name the same user, the member's name is
/// shown: SQLite takes a bare column from the row that gives `MIN(source)`.
pub const OPTION_USERS: &str = "\
WITH candidates (value, name, source) AS (
    SELECT user_id, name, 0 FROM members WHERE installation_uuid = ?1 AND user_id IS NOT NULL
    UNION ALL
    SELECT assignee_id, assignee_name, 1 FROM cards
    WHERE installation_uuid = ?1 AND assignee_type = 'user' AND assignee_id IS NOT NULL
), labelled AS (
    SELECT value, CASE WHEN TRIM(COALESCE(name, '')) = '' OR INSTR(name, '@') > 0 THEN 'User ' || value
        ELSE name END AS label, source
    FROM candidates
)
SELECT value, label, MIN(source) AS source FROM labelled
WHERE label LIKE ?2 ESCAPE '\\'
GROUP BY value ORDER BY label, value LIMIT 100";

/// `?1` card id → whether it exists.
pub const CARD_EXISTS: &str = "SELECT 1 AS present FROM cards WHERE id = ?1";

/// issue-link create: a card for the Sentry issue unless one exists. Its
/// `applied_at` is the epoch, so the next webhook for the issue wins.
const CREATE_LINKED_CARD: &str = "\
INSERT INTO cards (id, installation_uuid, title, permalink, status, project_id, project_slug, applied_at, created_at,
    updated_at)
VALUES (?1, ?2, ?3, ?4, 'unresolved', ?5, ?6, '1970-01-01T00:00:00.000Z', ?7, ?7)
ON CONFLICT (id) DO NOTHING";

const INSERT_LINK: &str = "\
INSERT INTO issue_links (issue_id, card_id, installation_uuid, created_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (issue_id, card_id) DO NOTHING";

/// A card created from Sentry's issue-link form.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedCard {
    pub issue_id: String,
    pub installation: Option<String>,
    pub title: String,
    pub permalink: Option<String>,
    pub project_id: Option<String>,
    pub project_slug: Option<String>,
}

pub fn create_linked_card(c: &LinkedCard, now: &str) -> Stmt {
    Stmt {
        sql: CREATE_LINKED_CARD,
        params: vec![
            c.issue_id.as_str().into(),
            c.installation.clone().into(),
            c.title.as_str().into(),
            c.permalink.clone().into(),
            c.project_id.clone().into(),
            c.project_slug.clone().into(),
            now.into(),
        ],
    }
}

pub fn link(issue_id: &str, card_id: &str, installation: Option<&str>, now: &str) -> Stmt {
    Stmt {
        sql: INSERT_LINK,
        params: vec![issue_id.into(), card_id.into(), installation.map(str::to_string).into(), now.into()],
    }
}

/// A LIKE pattern matching `query` anywhere, with LIKE's wildcards escaped.
pub fn like_pattern(query: Option<&str>) -> String {
    let q = query.unwrap_or("").trim();
    let escaped: String = q
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(None), "%%");
        assert_eq!(like_pattern(Some(" 50%_off\\ ")), "%50\\%\\_off\\\\%");
    }
}
