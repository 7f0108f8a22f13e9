-- Indexes for the paged participant list (Store::participants_page). Every combination
-- of the site and state filters reads its rows in study id order from one index and
-- counts them from the same index, without touching the rows and their snapshots:
-- no filter: the primary key; site: participants_by_site (0001); state and site + state:
-- the two below. A study id search scans the primary key, which holds the study id.
CREATE INDEX participants_by_state ON participants (state, study_id);
CREATE INDEX participants_by_site_state ON participants (site, state, study_id);
