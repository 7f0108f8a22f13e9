-- The event log, its chain head, the read tables and login sessions.
-- Logical schema shared with migrations/postgres; timestamps are TEXT in RFC 3339 UTC with
-- exactly six fractional digits, JSON is TEXT in canonical form, so nothing is rounded or
-- reformatted on the way in or out.

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    site        TEXT,
    recorded_at TEXT    NOT NULL,
    reason      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    UNIQUE (stream, version)
);

-- The events table is append-only.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;

-- One row: the last event's seq and hash. Appends read and advance it inside their
-- write transaction.
CREATE TABLE chain_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO chain_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE sites (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE users (
    username      TEXT    PRIMARY KEY,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    site          TEXT,
    password_hash TEXT    NOT NULL,
    active        BOOLEAN NOT NULL
);

CREATE TABLE participants (
    study_id   TEXT    PRIMARY KEY,
    site       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    snapshot   TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX participants_by_site ON participants (site, study_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
