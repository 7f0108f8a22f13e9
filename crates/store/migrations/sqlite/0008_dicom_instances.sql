-- The DICOM archive's index: one row per version of a SOP instance held in the archive
-- (the stored file is named by its SHA-256 under <data dir>/dicom/objects). It replaces
-- the index files the archive kept beside its objects, so that the series of a
-- participant are answered from an index, not by reading every entry.
--
-- Infrastructure beside the event log, like the imaging jobs: rows are only ever added
-- (INSERT ... ON CONFLICT DO NOTHING), never changed. The archive writes them in batches
-- after the object is on disk; an object whose row a crash lost is indexed again from its
-- own file meta when the archive opens. Arrivals are audited by the receiver's receipt
-- events, not here.
--
-- Times are text with microsecond precision (like the rest of the store); `source` is
-- the JSON of where the object came from; `is_pet` says it is a PET image the
-- quantification may read.

CREATE TABLE dicom_instances (
    sop_instance_uid    TEXT    NOT NULL,
    sha256              TEXT    NOT NULL,
    sop_class_uid       TEXT    NOT NULL,
    series_instance_uid TEXT    NOT NULL,
    study_instance_uid  TEXT    NOT NULL,
    modality            TEXT,
    transfer_syntax_uid TEXT    NOT NULL,
    size                BIGINT  NOT NULL CHECK (size >= 0),
    received_at         TEXT    NOT NULL,
    source              TEXT    NOT NULL,
    patient_id          TEXT,
    series_date         TEXT,
    series_description  TEXT,
    site                TEXT,
    is_pet              BOOLEAN NOT NULL,
    PRIMARY KEY (sop_instance_uid, sha256)
);

-- The files of a series, in SOPInstanceUID order, first version first.
CREATE INDEX dicom_instances_by_series
    ON dicom_instances (series_instance_uid, sop_instance_uid, received_at, sha256);
-- The series of a participant at a site.
CREATE INDEX dicom_instances_by_patient
    ON dicom_instances (site, patient_id, series_instance_uid);
