-- Signed checkpoints of the hash chain: the anchor outside the database. Each row is the
-- chain hash at one seq, signed with the study's Ed25519 key (kept in a file the database
-- never holds), so a log rewritten with recomputed hashes no longer matches the signed
-- hash at that seq. Rows are only ever added.

CREATE TABLE checkpoints (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 0),
    hash       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    signature  TEXT    NOT NULL
);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused');
END;
