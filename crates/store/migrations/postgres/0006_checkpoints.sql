-- Signed checkpoints of the hash chain: the anchor outside the database. Each row is the
-- chain hash at one seq, signed with the study's Ed25519 key (kept in a file the database
-- never holds), so a log rewritten with recomputed hashes no longer matches the signed
-- hash at that seq. Rows are only ever added.

CREATE TABLE checkpoints (
    seq        BIGINT PRIMARY KEY CHECK (seq >= 0),
    hash       TEXT   NOT NULL,
    signed_at  TEXT   NOT NULL,
    key_id     TEXT   NOT NULL,
    signature  TEXT   NOT NULL
);

CREATE FUNCTION checkpoints_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'checkpoints are append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER checkpoints_append_only
    BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION checkpoints_refuse_change();

CREATE TRIGGER checkpoints_no_truncate
    BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_refuse_change();
