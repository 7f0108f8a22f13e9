-- Accounts with a lifecycle: credentials apart from the log, lockout, session inactivity.
--
-- Password hashes move out of `users` (a read table derived from the event log) into
-- `credentials`, which only the sign-in path reads. The log records that a password was
-- set, by whom and when, never the hash. Events written before this migration
-- (`user_added` with a `password_hash` field) stay in the log unchanged, as the hash
-- chain requires; the application still reads them and ignores that field. Because
-- those hashes are readable in the log, every migrated password must be changed at its
-- owner's next sign-in (`must_change`).
--
-- `failures` counts failed password checks since the last success, unlock or new
-- password; `users.locked` (derived from the log's lock and unlock events) is what
-- refuses a locked account. `sessions.last_seen_at` lets a session end after inactivity.

CREATE TABLE credentials (
    username      TEXT    COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    must_change   BOOLEAN NOT NULL,
    failures      BIGINT  NOT NULL DEFAULT 0
);

INSERT INTO credentials (username, password_hash, must_change, failures)
SELECT username, password_hash, TRUE, 0 FROM users;

ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users ADD COLUMN locked BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
