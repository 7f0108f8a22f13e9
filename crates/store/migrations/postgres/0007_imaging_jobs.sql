-- Imaging jobs: quantifications (and their MIP pictures) requested by a reader and run by
-- a worker, outside the HTTP request that asked for them.
--
-- A job is `queued` when requested, `running` while a worker holds it, then `done` or
-- `failed` (with the reason). A worker holds a job until `lease_until` and renews the
-- lease while it works; a worker that dies stops renewing, and once the lease has run out
-- another worker takes the job again. The result is written through the audited write
-- path, which the job table does not replace: this table says what is to be done and
-- what became of it, the event log what was recorded.
--
-- At most one open (queued or running) job per exam (participant and timepoint).

CREATE TABLE imaging_jobs (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id          TEXT    COLLATE "C" NOT NULL,
    site              TEXT    NOT NULL,
    timepoint         TEXT    NOT NULL,
    series_uid        TEXT    NOT NULL,
    assignment_reason TEXT,
    requested_by      TEXT    NOT NULL,
    requested_at      TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts          BIGINT  NOT NULL DEFAULT 0,
    worker            TEXT,
    lease_until       TEXT,
    finished_at       TEXT,
    outcome           TEXT
);

CREATE INDEX imaging_jobs_by_state ON imaging_jobs (state, id);
CREATE INDEX imaging_jobs_by_exam ON imaging_jobs (study_id, timepoint, id);
CREATE UNIQUE INDEX imaging_jobs_one_open_per_exam ON imaging_jobs (study_id, timepoint)
    WHERE state IN ('queued', 'running');
