//! SQL for the GitHub → Sentry team sync (schema: migrations/0006_github_sync.sql,
//! rekeyed and given team ownership by 0010_github_hardening.sql).
//!
//! A delivery's row is keyed on (X-GitHub-Delivery, SHA-256 of the raw
//! body): `?1` and `?2` below wherever a row is named.

use crate::github::hook::SyncRecord;
use crate::github::lost::Cutoffs;
use crate::github::sync::{MappedTeam, MemberAction, MembershipJob, Ownership, TeamAction, TeamJob};
use crate::github::users::Mapping;
use crate::jobs::Job;
use crate::sql::row_text as text;
use crate::sql::{SqlValue, Stmt};
use serde_json::{json, Map, Value};

type Row = Map<String, Value>;

/// When an existing row of the delivery is processed again (`?11`: the
/// stuck cutoff): one text for `CLAIM` and for `claimable`, which tells
/// the rest of the batch before `CLAIM` runs.
macro_rules! reclaimable {
    () => {
        "(github_sync.status IN ('failed', 'dead', 'unmapped', 'conflict', 'unmanaged', 'dry_run')
    OR (github_sync.status = 'queued' AND github_sync.updated_at < ?11))"
    };
}

/// Records a delivery; `RETURNING` yields a row only when it is to be
/// processed, so the insert itself is the redelivery check. GitHub's
/// "Redeliver" resends the same body under the same id: it is processed
/// again unless the earlier attempt succeeded (`done`, or a `noop` that
/// needed nothing) or is still under way (`retrying`, or `queued` since
/// `?11` or later). A `queued` row older than that lost its job (the
/// worker died between recording and queueing), so it is claimed again.
pub const CLAIM: &str = concat!(
    "\
INSERT INTO github_sync
    (delivery_id, body_sha256, event, action, team_id, team_slug, login, github_org, status, detail, received_at,
     updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?12)
ON CONFLICT (delivery_id, body_sha256) DO UPDATE SET
    status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at
WHERE ",
    reclaimable!(),
    "
RETURNING delivery_id, 1 AS queue_job"
);

/// Written first in the ack's batch (`?13`: the batch's key in
/// `webhook_facts`, the other parameters `claim_params`'): whether `CLAIM`
/// will claim the delivery, so the delivery-log row after it can say
/// `duplicate` without a read before the batch.
pub const CLAIMABLE: &str = concat!(
    "\
INSERT OR REPLACE INTO webhook_facts (key, unseen)
SELECT ?13, NOT EXISTS (SELECT 1 FROM github_sync WHERE delivery_id = ?1 AND body_sha256 = ?2 AND NOT ",
    reclaimable!(),
    ")
RETURNING unseen"
);

/// `CLAIMABLE`'s statement for the batch keyed `key`.
pub fn claimable(r: &SyncRecord, now: &str, stuck_before: &str, key: &str) -> Stmt {
    let mut params = claim_params(r, now, stuck_before);
    params.push(key.into());
    Stmt { sql: CLAIMABLE, params }
}

pub fn claim_params(r: &SyncRecord, now: &str, stuck_before: &str) -> Vec<SqlValue> {
    vec![
        r.delivery.as_str().into(),
        r.body_sha256.as_str().into(),
        r.event.into(),
        r.action.as_str().into(),
        r.team_id.clone().into(),
        r.team_slug.clone().into(),
        r.login.clone().into(),
        r.org.clone().into(),
        r.status.into(),
        r.detail.clone().into(),
        stuck_before.into(),
        now.into(),
    ]
}

/// Forgets a delivery whose job could not be queued, so GitHub's
/// redelivery of it is taken as new instead of a duplicate.
pub fn unclaim(delivery: &str, body_sha256: &str) -> Stmt {
    Stmt {
        sql: "DELETE FROM github_sync WHERE delivery_id = ?1 AND body_sha256 = ?2 AND status = 'queued'",
        params: vec![delivery.into(), body_sha256.into()],
    }
}

const SET_STATUS: &str = "\
UPDATE github_sync SET status = ?3, detail = ?4, attempts = MAX(attempts, ?5), updated_at = ?6
WHERE delivery_id = ?1 AND body_sha256 = ?2";

/// `key`: the row's (delivery id, body digest), as its job carries them.
pub fn set_status(key: (&str, &str), status: &str, detail: Option<&str>, attempts: u32, now: &str) -> Stmt {
    let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
    let (delivery, digest) = key;
    Stmt {
        sql: SET_STATUS,
        params: vec![
            delivery.into(),
            digest.into(),
            status.into(),
            detail.map(str::to_string).into(),
            attempts.into(),
            now.into(),
        ],
    }
}

/// Marks an attempt of event `key` started, after the prelude read whether
/// an earlier one did: a create sent by an attempt that died before
/// recording anything is known to the next.
const MARK_STARTED: &str =
    "UPDATE github_sync SET attempts = MAX(attempts, 1) WHERE delivery_id = ?1 AND body_sha256 = ?2";

pub const TEAM: &str = "SELECT sentry_slug, state, ownership FROM github_teams WHERE github_team_id = ?1";

/// Team `?1`'s map entry (`TEAM`'s columns); `newer`: a later delivery (by
/// arrival) concerns the same team, and for memberships the same login,
/// as the row `(?2, ?3)`; `earlier`: for a team job (`?4`), an earlier
/// attempt of that row started; for a membership, an event for the team
/// itself is still queued or retrying; `user_login` (`?5`, a membership's
/// login) and its mapping (`USER`'s columns, `user_found`). One statement:
/// each statement of a batch costs the local D1 a prepare of its own.
const PRELUDE: &str = "\
SELECT t.sentry_slug, t.state, t.ownership, ?5 AS user_login, u.login IS NOT NULL AS user_found,
    u.member_id, u.email,
    EXISTS (SELECT 1 FROM github_sync AS me JOIN github_sync AS later
        ON later.event = me.event AND later.team_id = me.team_id
        AND COALESCE(later.login, '') = COALESCE(me.login, '') AND later.rowid > me.rowid
        WHERE me.delivery_id = ?2 AND me.body_sha256 = ?3) AS newer,
    CASE WHEN ?4 THEN EXISTS (SELECT 1 FROM github_sync WHERE delivery_id = ?2 AND body_sha256 = ?3 AND attempts > 0)
        ELSE EXISTS (SELECT 1 FROM github_sync WHERE event = 'team' AND team_id = ?1
            AND status IN ('queued', 'retrying')) END AS earlier
FROM (SELECT 1) AS one LEFT JOIN github_teams AS t ON t.github_team_id = ?1
    LEFT JOIN github_users AS u ON u.login = ?5";

/// What a sync job reads before its first call, for the batch that starts
/// it (one round trip, not four): the team's map entry, whether a newer
/// event superseded this one, then for a team whether an earlier attempt
/// started (and this one is marked started), for a membership whether its
/// team's own event is still pending. Other jobs read nothing here.
pub fn prelude(job: &Job) -> Vec<Stmt> {
    let (team_id, key, login) = match job {
        Job::GithubTeam(j) => (&j.team_id, (j.delivery.as_str(), j.body_sha256.as_str()), None),
        Job::GithubMembership(j) => (&j.team_id, (j.delivery.as_str(), j.body_sha256.as_str()), Some(&*j.login)),
        _ => return vec![],
    };
    let mark = Stmt { sql: MARK_STARTED, params: vec![key.0.into(), key.1.into()] };
    std::iter::once(prelude_read(team_id, key, login)).chain(login.is_none().then_some(mark)).collect()
}

/// The prelude's read alone, which marks nothing: a team event's job
/// (`login` None), else a membership's.
pub fn prelude_read(team_id: &str, key: (&str, &str), login: Option<&str>) -> Stmt {
    let team_job = login.is_none();
    let params = vec![team_id.into(), key.0.into(), key.1.into(), team_job.into(), login.map(str::to_string).into()];
    Stmt { sql: PRELUDE, params }
}

/// The prelude's answers, from its statements' first rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prelude {
    pub mapped: Option<MappedTeam>,
    pub superseded: bool,
    /// A team job: an earlier attempt started. A membership: its team's
    /// event is still queued or retrying.
    pub earlier: bool,
    /// A membership: its login, and that login's mapping if there is one.
    pub user: Option<(String, Option<Mapping>)>,
}

/// `None` when the read's row is missing: nothing is known, so the job
/// must not run on guesses.
pub fn read_prelude(rows: &[Option<Row>]) -> Option<Prelude> {
    let Some(Some(row)) = rows.first() else { return None };
    let yes = |k: &str| row.get(k).and_then(Value::as_f64).is_some_and(|n| n != 0.0);
    let user = text(row, "user_login").map(|login| (login, yes("user_found").then(|| mapping(row))));
    Some(Prelude { mapped: mapped_team(row), superseded: yes("newer"), earlier: yes("earlier"), user })
}

/// The team a link answers with: a mapped team that is not deleted, else
/// nothing was linked (404).
pub fn linked(row: Option<&Row>) -> Result<MappedTeam, crate::error::AppError> {
    row.and_then(mapped_team).filter(|t| !t.deleted).ok_or(crate::error::AppError::NotFound)
}

pub fn mapped_team(row: &Row) -> Option<MappedTeam> {
    Some(MappedTeam {
        sentry_slug: text(row, "sentry_slug")?,
        deleted: text(row, "state").as_deref() == Some("deleted"),
        ownership: Ownership::parse(text(row, "ownership").as_deref()),
    })
}

/// Maps a GitHub team to a Sentry team and records whose team it is;
/// never revives a deleted one.
const MAP_TEAM: &str = "\
INSERT INTO github_teams (github_team_id, github_slug, sentry_org, sentry_slug, state, ownership, updated_at)
VALUES (?1, ?2, ?3, ?4, 'active', ?6, ?5)
ON CONFLICT (github_team_id) DO UPDATE SET
    github_slug = excluded.github_slug, sentry_org = excluded.sentry_org, sentry_slug = excluded.sentry_slug,
    ownership = excluded.ownership, updated_at = excluded.updated_at
WHERE github_teams.state = 'active'";

pub fn map_team(
    team_id: &str,
    github_slug: &str,
    org: &str,
    sentry_slug: &str,
    ownership: Ownership,
    now: &str,
) -> Stmt {
    let ownership = ownership.as_str().map(str::to_string);
    Stmt {
        sql: MAP_TEAM,
        params: vec![team_id.into(), github_slug.into(), org.into(), sentry_slug.into(), now.into(), ownership.into()],
    }
}

/// An admin links the Sentry team a GitHub team is mapped to (a conflict,
/// or a mapping from before 0010); a team the worker owns stays owned, and
/// one whose GitHub team was deleted stays closed.
pub fn link_team(team_id: &str, now: &str) -> Stmt {
    Stmt {
        sql: "UPDATE github_teams
            SET ownership = CASE WHEN ownership = 'owned' THEN 'owned' ELSE 'linked' END, updated_at = ?2
            WHERE github_team_id = ?1 AND state = 'active'",
        params: vec![team_id.into(), now.into()],
    }
}

const TEAM_DELETED: &str = "\
UPDATE github_teams SET state = 'deleted', updated_at = ?2 WHERE github_team_id = ?1";

pub fn team_deleted(team_id: &str, now: &str) -> Stmt {
    Stmt { sql: TEAM_DELETED, params: vec![team_id.into(), now.into()] }
}

pub const USER: &str = "SELECT member_id, email FROM github_users WHERE login = ?1";

pub fn mapping(row: &Row) -> Mapping {
    Mapping { member_id: text(row, "member_id"), email: text(row, "email") }
}

const PUT_USER: &str = "\
INSERT INTO github_users (login, member_id, email, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (login) DO UPDATE SET member_id = excluded.member_id, email = excluded.email,
    updated_at = excluded.updated_at";

pub fn put_user(login: &str, m: &Mapping, now: &str) -> Stmt {
    Stmt { sql: PUT_USER, params: vec![login.into(), m.member_id.clone().into(), m.email.clone().into(), now.into()] }
}

pub fn delete_user(login: &str) -> Stmt {
    Stmt { sql: "DELETE FROM github_users WHERE login = ?1", params: vec![login.into()] }
}

/// Membership events left unmapped for a login, oldest first: queued
/// again once the login is mapped.
pub const UNMAPPED_FOR: &str = "\
SELECT delivery_id, body_sha256, action, team_id, team_slug, login, github_org FROM github_sync
WHERE login = ?1 COLLATE NOCASE AND status = 'unmapped' AND event = 'membership'
ORDER BY rowid LIMIT 100";

pub fn replay_job(row: &Row) -> Option<MembershipJob> {
    Some(MembershipJob {
        delivery: text(row, "delivery_id")?,
        body_sha256: text(row, "body_sha256").unwrap_or_default(),
        action: if text(row, "action")? == "added" { MemberAction::Added } else { MemberAction::Removed },
        team_id: text(row, "team_id")?,
        team_slug: text(row, "team_slug"),
        login: text(row, "login")?,
        org: text(row, "github_org"),
    })
}

/// Events whose job never ran or whose retry never came (`queued` before
/// `?1`, `retrying` before `?2`: the worker died between recording and
/// queueing, or the message was lost): the cron queues them again, so
/// GitHub, which never redelivers by itself, loses none.
pub const STUCK: &str = "\
SELECT delivery_id, body_sha256, event, action, team_id, team_slug, login, github_org FROM github_sync
WHERE (status = 'queued' AND updated_at < ?1) OR (status = 'retrying' AND updated_at < ?2)
ORDER BY rowid LIMIT 100";

pub fn stuck_params(c: &Cutoffs) -> [SqlValue; 2] {
    [c.queued_before.as_str().into(), c.retrying_before.as_str().into()]
}

/// The job a stuck row stands for.
pub fn stuck_job(row: &Row) -> Option<Job> {
    match text(row, "event")?.as_str() {
        "membership" => replay_job(row).map(Job::GithubMembership),
        "team" => Some(Job::GithubTeam(TeamJob {
            delivery: text(row, "delivery_id")?,
            body_sha256: text(row, "body_sha256").unwrap_or_default(),
            action: match text(row, "action")?.as_str() {
                "created" => TeamAction::Created,
                "deleted" => TeamAction::Deleted,
                "edited" => TeamAction::Edited,
                _ => return None,
            },
            team_id: text(row, "team_id")?,
            slug: text(row, "team_slug"),
        })),
        _ => None,
    }
}

/// Claims a stuck row for one re-queue (the same cutoffs), `queued` again
/// for its new job: a second sweep running at once finds it fresh and leaves it.
pub fn unstick(key: (&str, &str), c: &Cutoffs) -> Stmt {
    let [queued, retrying] = stuck_params(c);
    Stmt {
        sql: "UPDATE github_sync SET status = 'queued', updated_at = ?3
            WHERE delivery_id = ?1 AND body_sha256 = ?2
            AND ((status = 'queued' AND updated_at < ?4) OR (status = 'retrying' AND updated_at < ?5))",
        params: vec![key.0.into(), key.1.into(), c.now.as_str().into(), queued, retrying],
    }
}

pub fn requeued(key: (&str, &str), now: &str) -> Stmt {
    Stmt {
        sql: "UPDATE github_sync SET status = 'queued', detail = NULL, updated_at = ?3
            WHERE delivery_id = ?1 AND body_sha256 = ?2 AND status = 'unmapped'",
        params: vec![key.0.into(), key.1.into(), now.into()],
    }
}

/// Organizations an installation-mode sync can target: `(uuid, org slug)`.
pub const INSTALLED: &str = "\
SELECT uuid, org_slug FROM installations WHERE status = 'installed' AND org_slug IS NOT NULL ORDER BY uuid";

pub fn installed(rows: &[Row]) -> Vec<(String, String)> {
    rows.iter().filter_map(|r| Some((text(r, "uuid")?, text(r, "org_slug")?))).collect()
}

// ---- Sync status ----------------------------------------------------------------

pub const LIST_EVENTS: &str = "\
SELECT delivery_id AS delivery, body_sha256, event, action, team_id, team_slug, login, status, detail, attempts,
    received_at, updated_at
FROM github_sync ORDER BY rowid DESC LIMIT 200";

/// Logins that could not be mapped, once each (their newest unmapped
/// event), until a newer event for the login succeeds.
pub const LIST_UNMAPPED: &str = "\
SELECT s.login, s.detail AS why, s.team_slug, s.action, s.delivery_id AS delivery, s.updated_at
FROM github_sync AS s
WHERE s.rowid IN (SELECT MAX(rowid) FROM github_sync WHERE status = 'unmapped' GROUP BY login COLLATE NOCASE)
    AND NOT EXISTS (
        SELECT 1 FROM github_sync AS n
        WHERE n.login = s.login COLLATE NOCASE AND n.rowid > s.rowid AND n.status IN ('done', 'dry_run'))
ORDER BY s.rowid DESC LIMIT 100";

/// `ownership`: owned, linked, conflict, or null (mapped before 0010: not
/// managed until linked).
pub const LIST_TEAMS: &str = "\
SELECT github_team_id, github_slug, sentry_org, sentry_slug, state, ownership, updated_at
FROM github_teams ORDER BY updated_at DESC LIMIT 500";

pub const LIST_USERS: &str = "SELECT login, member_id, email, updated_at FROM github_users ORDER BY login LIMIT 1000";

pub const COUNTS: &str = "SELECT status, COUNT(*) AS n FROM github_sync GROUP BY status ORDER BY status";

/// `GET /api/github/sync`, from the five reads above (in that order).
pub fn status_json(dry_run: bool, events: &[Row], unmapped: &[Row], teams: &[Row], counts: &[Row]) -> Value {
    let counts: Map<String, Value> =
        counts.iter().filter_map(|r| Some((text(r, "status")?, r.get("n").cloned().unwrap_or(json!(0))))).collect();
    // Sentry teams that existed before the GitHub team asked for them: never
    // written to, listed so an admin can link them (GITHUB_LINK_TEAMS) or rename.
    let conflicts: Vec<&Row> = teams.iter().filter(|t| t.get("ownership") == Some(&json!("conflict"))).collect();
    json!({
        "mode": if dry_run { "dry_run" } else { "live" },
        "counts": counts,
        "unmapped": unmapped,
        "conflicts": conflicts,
        "teams": teams,
        "events": events,
    })
}
