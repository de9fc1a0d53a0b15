-- The board's login, hardened (issue 17).
--
-- auth_state holds one row: the session version every DASHBOARD_TOKEN
-- session cookie carries. Logging out bumps it, so every cookie issued
-- before stops working on the server, wherever a copy of it is.
CREATE TABLE auth_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO auth_state (id, session_version) VALUES (1, 0);

-- Failed logins per client (CF-Connecting-IP, or one fixed key) per epoch
-- minute, for the login throttle. Rows of past minutes are deleted whenever
-- a failure is recorded, so the table holds about a minute of failures.
CREATE TABLE login_failures (
    client TEXT NOT NULL,
    minute INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client, minute)
);
CREATE INDEX login_failures_minute ON login_failures (minute);
