-- The visits read table: per participant, the visits still to be done and their windows
-- (Projection::Visits replaces a participant's rows; Store::rebuild_visits replaces them
-- after a settings change). Logical schema shared with migrations/postgres; dates are
-- TEXT 'YYYY-MM-DD' here (checked), so text order is date order.
CREATE TABLE visits (
    study_id TEXT    NOT NULL,
    site     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    earliest TEXT    NOT NULL CHECK (date(earliest) IS earliest),
    latest   TEXT    NOT NULL CHECK (date(latest) IS latest),
    required BOOLEAN NOT NULL,
    detail   TEXT    NOT NULL,
    PRIMARY KEY (study_id, kind),
    CHECK (earliest <= latest)
);

-- Store::open_visits reads each part of the list (overdue, due, upcoming) in its order
-- (latest, study_id, kind) from an index range, and counts the parts on the same ranges;
-- the trailing columns let the filters (window, required, site, study id search) be
-- checked in the index, so only the rows of the page itself are read from the table.
--   overdue  (latest < today AND required):  visits_required_by_latest
--   due      (latest >= today >= earliest):  visits_by_latest, from today on
--   upcoming (latest >= earliest > today):   visits_by_latest, from today on
CREATE INDEX visits_by_latest ON visits (latest, study_id, kind, earliest, required, site);
CREATE INDEX visits_required_by_latest ON visits (latest, study_id, kind, site) WHERE required;
