-- Issue 17: an installation whose token pair is lost. A refresh rotates the
-- refresh token at Sentry; when the new pair cannot be saved (after retries),
-- the stored refresh token is already spent and nothing but a reinstall can
-- get a token again. This is recorded here, not in `error`, because `error`
-- is cleared by the next job that succeeds and this state must stay visible
-- until the installation is set up again (a new grant code clears it).
ALTER TABLE installations ADD COLUMN needs_reinstall TEXT;
ALTER TABLE installations ADD COLUMN needs_reinstall_at TEXT;
