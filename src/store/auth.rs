//! The login's state in D1: the session version and the failed-login
//! counters (see migrations/0011_auth_hardening.sql).

use crate::sql::Stmt;

/// The current session version (`v`); the migration creates the row.
pub const SESSION_VERSION: &str = "SELECT session_version AS v FROM auth_state WHERE id = 1";

/// A logout's writes: only a request a valid session signs in ends every
/// session, or anyone could sign everyone out.
pub fn logout(valid_session: bool) -> Vec<Stmt> {
    if valid_session {
        vec![bump_session_version()]
    } else {
        vec![]
    }
}

/// Logout: every session issued so far stops being valid.
pub fn bump_session_version() -> Stmt {
    Stmt {
        sql: "INSERT INTO auth_state (id, session_version) VALUES (1, 1) \
              ON CONFLICT (id) DO UPDATE SET session_version = session_version + 1",
        params: vec![],
    }
}

/// A client's failed logins this minute (`n`): `?1` client, `?2` minute.
pub const FAILURES: &str =
    "SELECT COALESCE(SUM(failures), 0) AS n FROM login_failures WHERE client = ?1 AND minute = ?2";

/// One more failure for `client` in `minute`, and the past minutes pruned.
pub fn record_failure(client: &str, minute: i32) -> Vec<Stmt> {
    vec![
        Stmt {
            sql: "INSERT INTO login_failures (client, minute, failures) VALUES (?1, ?2, 1) \
                  ON CONFLICT (client, minute) DO UPDATE SET failures = failures + 1",
            params: vec![client.into(), minute.into()],
        },
        Stmt { sql: "DELETE FROM login_failures WHERE minute < ?1", params: vec![minute.into()] },
    ]
}
