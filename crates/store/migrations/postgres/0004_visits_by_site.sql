-- A site's open-visit list (the one a site's staff open) read and counted on the site's
-- own stretch of an index, like the study-wide list on visits_by_latest (0003), so its
-- cost follows the site's size, not the study's.
CREATE INDEX visits_by_site ON visits (site, latest, study_id, kind, earliest, required);
