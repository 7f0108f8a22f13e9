//! PET exams of participants (PROTOCOL §6, ARCHITECTURE "Imaging flow"): a series from
//! the DICOM archive is quantified by the `pet` crate, and the result enters the trial as
//! a `RecordPetQuantification` command through the one write path. The numbers never come
//! from a form.
//!
//! The coronal MIP with numbered candidate markers is drawn when the exam is quantified
//! and kept under `<data dir>/derived/mip/<study id>/<quantification id>.png`; it is drawn
//! again from the archive when missing (the quantification is deterministic).
//!
//! DICOM date-times carry no time zone; the scanners are in Sweden, so header times are
//! read in the sites' time zone ([`crate::SiteZone`], Stockholm) unless the header gives an offset.

use std::path::PathBuf;
use std::sync::Arc;

use archive::{Archive, SeriesSummary};
use chrono::{DateTime, Utc};
use pet::lesions::{LesionParams, detect};
use pet::suv::SuvOptions;
use protocol::imaging::{
    BiopsyTargetChoice, ImpAdministration, PetCandidate, PetHeaderFacts, PetQuantParameters,
    PetQuantification, PetReview,
};
use protocol::{Command, Entry, PetTimepoint, RecordPetQuantification, Refusal, Rule, Settings};
use serde::Serialize;

use crate::Trial;
use crate::access::User;
use crate::clock::SiteZone;
use crate::error::{Error, Result};
use crate::roles::Capability;
use crate::write::{Loaded, Written};

/// Held while a quantification's series is checked a last time and the result written, so
/// a series cannot become the exam of two participants through two requests at once.
static SERIES_CLAIM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A quantification checked and ready to be read (see [`Trial::prepare_quantification`]).
pub(crate) struct PreparedQuantification {
    /// Her site.
    pub site: String,
    /// The series, trimmed.
    pub series_uid: String,
    /// Why the series is hers although its PatientID differs, when given.
    pub assignment_reason: Option<String>,
    /// The exam's IMP administration.
    pub administration_id: String,
    /// Her record as checked.
    pub loaded: Loaded,
}

/// The algorithm version recorded with every quantification.
pub const ALGORITHM_VERSION: &str = concat!("her2ex-pet ", env!("CARGO_PKG_VERSION"));

/// Upper end of the MIP's grey scale, SUV (the tracer's kidneys go far above; lesions of
/// interest sit around the avid threshold of 6).
pub const MIP_MAX_SUV: f32 = 12.0;

/// Where a MIP picture's candidate markers sit (the pages draw over the picture).
pub use pet::mip::{MipLayout, MipMarker};

fn pet_refusal(message: String) -> Error {
    Error::Refused(Refusal::new(Rule::PET_EXAM, message))
}

/// Parses a time point from a URL or a command line (`pet1`, `pet2`, `pet3`).
pub fn timepoint(s: &str) -> Result<PetTimepoint> {
    PetTimepoint::parse(s)
        .ok_or_else(|| Error::NotFound(format!("no PET time point {s:?}: use pet1, pet2 or pet3")))
}

/// An archived PET series of the participant.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SeriesView {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// Images held.
    pub instance_count: usize,
    /// SeriesDate, YYYYMMDD.
    pub series_date: Option<String>,
    /// SeriesDescription.
    pub series_description: Option<String>,
    /// When the last image arrived.
    pub last_received_at: DateTime<Utc>,
}

impl From<SeriesSummary> for SeriesView {
    fn from(s: SeriesSummary) -> Self {
        SeriesView {
            series_instance_uid: s.series_instance_uid,
            instance_count: s.instance_count,
            series_date: s.series_date,
            series_description: s.series_description,
            last_received_at: s.last_received_at,
        }
    }
}

/// A PET exam as recorded: administration, quantification, review with the biopsy target
/// proposal, and the investigator's choice.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PetExam {
    /// Time point.
    pub timepoint: PetTimepoint,
    /// Participant version: send it as `expected_version`.
    pub version: i64,
    /// The current IMP administration.
    pub administration: Option<Entry<ImpAdministration>>,
    /// The current quantification.
    pub quantification: Option<PetQuantification>,
    /// The reader's review of the current quantification.
    pub review: Option<PetReview>,
    /// The investigator's biopsy target chosen on that review.
    pub biopsy_target: Option<BiopsyTargetChoice>,
    /// The MIP picture, once quantified.
    pub mip_url: Option<String>,
    /// The newest quantification job asked for this exam, whatever became of it.
    pub job: Option<crate::jobs::ImagingJobView>,
}

/// The exam of a time point from a participant's state.
pub fn exam_from(id: &str, p: &protocol::Participant, version: i64, tp: PetTimepoint) -> PetExam {
    let quantification = p.pet_quantification(tp).cloned();
    PetExam {
        timepoint: tp,
        version,
        administration: p.imp_administration(tp).cloned(),
        mip_url: quantification
            .as_ref()
            .map(|_| format!("/api/v1/participants/{id}/pet/{}/mip.png", tp.id())),
        quantification,
        review: p.pet_review(tp).cloned(),
        biopsy_target: p.biopsy_target(tp).cloned(),
        job: None,
    }
}

/// A quantified series: the command for the write path and its MIP picture.
#[derive(Clone)]
pub struct Quantified {
    /// The command to record.
    pub command: RecordPetQuantification,
    /// Coronal MIP with numbered candidate markers, PNG.
    pub mip_png: Vec<u8>,
    /// Where the markers sit in that picture.
    pub mip_layout: Option<MipLayout>,
}

fn lesion_params(s: &Settings) -> LesionParams {
    LesionParams {
        threshold_suv: s.pet_quantification.candidate_threshold_suv as f32,
        min_volume_ml: s.pet_quantification.min_volume_ml,
        mtv_fraction: s.pet_quantification.mtv_fraction as f32,
        avid_suvmax: s.avid_suvmax_threshold as f32,
    }
}

/// Reads, calibrates and measures an archived series (blocking; seconds of work). The
/// command carries the series' archived PatientID; whether the series may be hers is for
/// the caller ([`Trial::quantify`]) and the protocol to decide.
pub fn quantify_series(
    archive: &Archive,
    series_uid: &str,
    tp: PetTimepoint,
    administration_id: &str,
    settings: &Settings,
    zone: SiteZone,
) -> Result<Quantified> {
    let files = archive
        .series_files(series_uid)
        .map_err(|e| Error::internal("reading the archive", e))?;
    if files.is_empty() {
        return Err(Error::NotFound(format!(
            "no series {series_uid} in the DICOM archive"
        )));
    }
    let series_patient_id = archive
        .series_summary(series_uid)
        .map_err(|e| Error::internal("reading the archive", e))?
        .and_then(|s| s.patient_id);
    let series = StoredSeries {
        uid: series_uid,
        files: &files,
        patient_id: series_patient_id,
    };
    quantify_stored(&series, tp, administration_id, settings, zone)
}

/// A series' stored object files, as the archive holds them.
pub struct StoredSeries<'a> {
    /// SeriesInstanceUID.
    pub uid: &'a str,
    /// Its objects' files in the archive.
    pub files: &'a [PathBuf],
    /// The PatientID the archive recorded for it.
    pub patient_id: Option<String>,
}

/// [`quantify_series`] on object files already known (the demo, which has just stored
/// them, passes the paths the archive gave it instead of looking them up in its index).
pub fn quantify_stored(
    stored: &StoredSeries,
    tp: PetTimepoint,
    administration_id: &str,
    settings: &Settings,
    zone: SiteZone,
) -> Result<Quantified> {
    let (series_uid, files) = (stored.uid, stored.files);
    // One pass: headers calibrated first, each slice scaled to SUV as it is read.
    let loaded = pet::suv::load_suv(files, &SuvOptions::default())
        .map_err(|e| pet_refusal(format!("Series {series_uid} cannot be read: {e}")))?;
    let cal = loaded.calibration.map_err(|r| {
        pet_refusal(format!(
            "No SUV for series {series_uid}: {}",
            r.reasons.join("; ")
        ))
    })?;
    let series = loaded.series;
    let suv = &series.volume;
    let params = lesion_params(settings);
    let lesions = detect(suv, &params);
    let volume_suv_max = loaded.range.map_or(0.0, |(_, max)| max);
    let candidates: Vec<PetCandidate> = lesions
        .iter()
        .map(|l| PetCandidate {
            number: l.id,
            suv_max: l.suv_max,
            suv_peak: l.suv_peak,
            suv_mean: l.suv_mean,
            mtv_ml: l.mtv_ml,
            tlu: l.tlu,
            centroid_mm: l.centroid_mm,
            her2_avid: l.her2_avid,
            physiological: l.physiological.map(|o| format!("{o:?}").to_lowercase()),
        })
        .collect();
    let first = series.instances.first().map(|i| &i.suv);
    let mut warnings = series.warnings.clone();
    warnings.extend(cal.warnings.iter().cloned());
    warnings.extend(
        series
            .problems
            .iter()
            .map(|p| format!("File skipped: {}", p.reason)),
    );
    let series_patient_id = stored.patient_id.clone();
    let header = PetHeaderFacts {
        injected_activity_mbq: cal.dose_bq.map(|b| b / 1e6),
        injected_at: cal.injection_datetime.and_then(|t| zone.to_utc(t)),
        weight_kg: first.and_then(|h| h.weight_kg),
        height_cm: first.and_then(|h| h.height_m).map(|m| m * 100.0),
        scan_at: cal.scan_datetime.and_then(|t| zone.to_utc(t)),
        scan_datetime_rule: cal.scan_datetime_rule.map(|r| r.as_str().to_string()),
        suvbw_scale_factor: cal.instances.first().and_then(|i| i.suvbw_scale_factor),
        half_life_s: cal.half_life_s,
    };
    let markers: Vec<(u32, [f64; 3])> = candidates
        .iter()
        .map(|c| (c.number, c.centroid_mm))
        .collect();
    let mip_png = pet::mip::coronal_mip_png(suv, &markers, MIP_MAX_SUV);
    let mip_layout = pet::mip::coronal_mip_layout(suv, &markers);
    Ok(Quantified {
        command: RecordPetQuantification {
            timepoint: tp,
            administration_id: administration_id.to_string(),
            series_instance_uid: series.series_instance_uid.clone(),
            image_count: u32::try_from(series.instances.len()).unwrap_or(u32::MAX),
            algorithm_version: ALGORITHM_VERSION.to_string(),
            parameters: PetQuantParameters {
                suv_type: cal.suv_type.label().to_string(),
                candidate_threshold_suv: settings.pet_quantification.candidate_threshold_suv,
                min_volume_ml: settings.pet_quantification.min_volume_ml,
                mtv_fraction: settings.pet_quantification.mtv_fraction,
                avid_suvmax_threshold: settings.avid_suvmax_threshold,
            },
            header,
            volume_suv_max,
            candidates,
            warnings,
            series_patient_id,
            assignment_reason: None,
        },
        mip_png,
        mip_layout,
    })
}

fn mip_path(archive: &Archive, study_id: &str, quantification_id: &str) -> PathBuf {
    let data_dir = archive.root().parent().unwrap_or(archive.root());
    data_dir
        .join("derived")
        .join("mip")
        .join(study_id)
        .join(format!("{quantification_id}.png"))
}

/// Where the marker layout of the MIP saved at `png_path` is kept.
fn layout_path(png_path: &std::path::Path) -> PathBuf {
    png_path.with_extension("markers.json")
}

/// Saves the marker layout beside its MIP picture.
fn save_layout(png_path: &std::path::Path, layout: Option<&MipLayout>) -> std::io::Result<()> {
    let Some(layout) = layout else { return Ok(()) };
    let json = serde_json::to_vec(layout).map_err(std::io::Error::other)?;
    let path = layout_path(png_path);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

fn save_mip(path: &std::path::Path, png: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, png)?;
    std::fs::rename(&tmp, path)
}

impl Trial {
    fn archive_or_refuse(&self) -> Result<&Arc<Archive>> {
        self.archive().ok_or_else(|| {
            Error::NotFound(
                "this server has no DICOM archive: start it with a data directory".into(),
            )
        })
    }

    /// The archived PET series of this participant's site whose PatientID is her study id
    /// (the scanners send the study id as PatientID), newest first. Series of other sites
    /// are never listed.
    pub async fn pet_series(&self, user: &User, study_id: &str) -> Result<Vec<SeriesView>> {
        let row = self.visible_row(user, study_id).await?;
        self.series_of(&row.site, study_id).await
    }

    /// The exam page in one load: the participant, her exam at `tp`, and the series a
    /// user who may quantify can choose from (once the IMP is recorded).
    pub async fn pet_page(
        &self,
        user: &User,
        id: &str,
        tp: PetTimepoint,
    ) -> Result<(crate::participants::Visible, PetExam, Vec<SeriesView>)> {
        let v = self.visible(user, id).await?;
        let mut exam = exam_from(id, &v.participant, v.row.version, tp);
        exam.job = self.latest_job(id, tp).await?;
        let series = if exam.administration.is_some() && user.role.may(Capability::QuantifyImaging)
        {
            self.series_of(&v.row.site, id).await?
        } else {
            Vec::new()
        };
        Ok((v, exam, series))
    }

    async fn series_of(&self, site: &str, study_id: &str) -> Result<Vec<SeriesView>> {
        let Some(archive) = self.archive().cloned() else {
            return Ok(Vec::new());
        };
        let (site, id) = (site.to_string(), study_id.to_string());
        let mut list = tokio::task::spawn_blocking(move || archive.series_of(&site, &id))
            .await
            .map_err(|e| Error::internal("listing series", e))?
            .map_err(|e| Error::internal("listing series", e))?;
        list.retain(|s| s.is_pet);
        list.sort_by_key(|s| std::cmp::Reverse(s.last_received_at));
        Ok(list.into_iter().map(SeriesView::from).collect())
    }

    /// The exam of a time point, if the user may see the participant.
    pub async fn pet_exam(&self, user: &User, id: &str, tp: PetTimepoint) -> Result<PetExam> {
        let v = self.visible(user, id).await?;
        let mut exam = exam_from(id, &v.participant, v.row.version, tp);
        exam.job = self.latest_job(id, tp).await?;
        Ok(exam)
    }

    /// The archived series `series_uid` if it belongs to `site` (its sender's or
    /// importer's site); another site's series is answered like one that does not exist.
    async fn series_at(
        &self,
        archive: &Arc<Archive>,
        site: &str,
        series_uid: &str,
    ) -> Result<SeriesSummary> {
        let archive = archive.clone();
        let uid = series_uid.to_string();
        let found = tokio::task::spawn_blocking(move || archive.series_summary(&uid))
            .await
            .map_err(|e| Error::internal("listing series", e))?
            .map_err(|e| Error::internal("listing series", e))?;
        found
            .filter(|s| s.site.as_deref() == Some(site))
            .ok_or_else(|| Error::NotFound(format!("no series {series_uid} in the DICOM archive")))
    }

    /// Refuses a series already quantified as the exam of another participant (of the
    /// same site: a series belongs to one site).
    async fn refuse_series_of_another(
        &self,
        site: &str,
        study_id: &str,
        series_uid: &str,
    ) -> Result<()> {
        for row in self.store().participants(Some(site)).await? {
            if row.study_id == study_id {
                continue;
            }
            let other = crate::participants::snapshot_of(&row)?;
            if other
                .pet_quantifications
                .iter()
                .any(|q| q.series_instance_uid == series_uid)
            {
                return Err(Error::Refused(Refusal::new(
                    Rule::IMAGING_PARTICIPANT,
                    format!(
                        "Series {series_uid} is already the PET exam of another participant: a series belongs to one participant."
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Quantifies `series_uid` as this participant's exam at `tp` and records it, in
    /// this call. The server queues it instead ([`Trial::request_quantification`]) and a
    /// worker runs it.
    ///
    /// The series must belong to her site. When its PatientID is not her study id, the
    /// user (of her site) assigns it explicitly with `assignment_reason`, which the audit
    /// trail keeps with the quantification; a series already another participant's exam
    /// is refused.
    pub async fn quantify(
        &self,
        user: &User,
        study_id: &str,
        tp: PetTimepoint,
        expected_version: i64,
        series_uid: &str,
        assignment_reason: Option<&str>,
    ) -> Result<Written> {
        let p = self
            .prepare_quantification(
                user,
                study_id,
                tp,
                expected_version,
                series_uid,
                assignment_reason,
            )
            .await?;
        let q = self
            .compute_quantification(&p.series_uid, tp, p.administration_id.clone())
            .await?;
        self.record_with_reason(
            &user.actor(),
            &p.site,
            study_id,
            p.loaded,
            expected_version,
            q,
            p.assignment_reason,
        )
        .await
    }

    /// Records a computed quantification with the reason a series was assigned to her.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_with_reason(
        &self,
        actor: &crate::Actor,
        site: &str,
        study_id: &str,
        loaded: Loaded,
        expected_version: i64,
        mut q: Quantified,
        assignment_reason: Option<String>,
    ) -> Result<Written> {
        q.command.assignment_reason = assignment_reason;
        self.record_quantified(actor, site, study_id, loaded, expected_version, q)
            .await
    }

    /// Everything checked before a series is read as her exam: the user may quantify
    /// and sees her, the UID is one, the series is in her site's archive and not another
    /// woman's exam, an assignment is made by her site, her record is at
    /// `expected_version`, and the exam's IMP administration is recorded.
    pub(crate) async fn prepare_quantification(
        &self,
        user: &User,
        study_id: &str,
        tp: PetTimepoint,
        expected_version: i64,
        series_uid: &str,
        assignment_reason: Option<&str>,
    ) -> Result<PreparedQuantification> {
        user.require(Capability::QuantifyImaging)?;
        let row = self.visible_row(user, study_id).await?;
        let series_uid = series_uid.trim();
        if !archive::is_valid_uid(series_uid) {
            return Err(Error::BadRequest(format!(
                "{series_uid:?} is not a DICOM UID (digits and dots, at most 64 characters)"
            )));
        }
        let archive = self.archive_or_refuse()?.clone();
        let summary = self.series_at(&archive, &row.site, series_uid).await?;
        let assignment_reason = assignment_reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let matches = summary.patient_id.as_deref() == Some(study_id);
        if !matches
            && assignment_reason.is_some()
            && user.site.as_deref() != Some(row.site.as_str())
        {
            return Err(Error::Refused(Refusal::new(
                Rule::IMAGING_SITE,
                format!(
                    "Only a user of site {} may assign a series whose PatientID is not the study id.",
                    row.site
                ),
            )));
        }
        self.refuse_series_of_another(&row.site, study_id, series_uid)
            .await?;
        let loaded = self.load(study_id).await?;
        if loaded.version != expected_version {
            return Err(Error::Conflict {
                expected: expected_version,
                actual: loaded.version,
            });
        }
        let administration_id = self.administration_of(&loaded, tp)?;
        protocol::imaging::check_series_assignment(
            series_uid,
            summary.patient_id.as_deref(),
            Some(study_id),
            assignment_reason.as_deref(),
        )
        .map_err(Error::Refused)?;
        Ok(PreparedQuantification {
            site: row.site,
            series_uid: series_uid.to_string(),
            assignment_reason,
            administration_id,
            loaded,
        })
    }

    /// The IMP administration an exam's series is read against.
    pub(crate) fn administration_of(&self, loaded: &Loaded, tp: PetTimepoint) -> Result<String> {
        let Some(admin) = loaded.participant.imp_administration(tp) else {
            return Err(pet_refusal(format!(
                "No IMP administration is recorded for {}: record it before reading the series.",
                tp.label()
            )));
        };
        Ok(admin.entry_id.clone())
    }

    /// Reads and measures a series (on a blocking thread: seconds of arithmetic).
    pub(crate) async fn compute_quantification(
        &self,
        series_uid: &str,
        tp: PetTimepoint,
        administration_id: String,
    ) -> Result<Quantified> {
        let archive = self.archive_or_refuse()?.clone();
        let settings = self.settings().await?;
        let (uid, zone) = (series_uid.to_string(), self.zone());
        tokio::task::spawn_blocking(move || {
            quantify_series(&archive, &uid, tp, &administration_id, &settings, zone)
        })
        .await
        .map_err(|e| Error::internal("quantifying", e))?
    }

    /// Records a quantification computed by [`quantify_series`] for a participant already
    /// loaded, and keeps its MIP picture beside the archive. [`Trial::quantify`] computes
    /// and then calls this; the demo computes its exams on worker threads ahead of time
    /// and records each when its reader would have.
    pub async fn record_quantified(
        &self,
        actor: &crate::Actor,
        site: &str,
        study_id: &str,
        loaded: Loaded,
        expected_version: i64,
        q: Quantified,
    ) -> Result<Written> {
        let archive = self.archive_or_refuse()?.clone();
        let series_uid = q.command.series_instance_uid.clone();
        let tp = q.command.timepoint;
        let command = Command::RecordPetQuantification(q.command);
        // Two quantifications of one series for two participants may both pass the check
        // above while the series is read; the check is made again, and the write done,
        // one at a time in this process.
        let _one_at_a_time = SERIES_CLAIM.lock().await;
        self.refuse_series_of_another(site, study_id, &series_uid)
            .await?;
        let context = self.kept_context().await?;
        let written = self
            .execute_on(
                actor,
                study_id,
                loaded,
                expected_version,
                &command,
                None,
                context,
            )
            .await?;
        if let Some(current) = written.participant.pet_quantification(tp) {
            let path = mip_path(&archive, study_id, &current.quantification_id);
            if let Err(e) = save_mip(&path, &q.mip_png) {
                tracing::warn!(path = %path.display(), error = %e, "MIP not saved; it is drawn again when asked for");
            }
            if let Err(e) = save_layout(&path, q.mip_layout.as_ref()) {
                tracing::warn!(path = %path.display(), error = %e, "MIP marker layout not saved");
            }
        }
        Ok(written)
    }

    /// Where the candidate markers sit in the MIP picture of a time point's current
    /// quantification, as saved beside the picture when it was drawn; none when no
    /// layout was saved (the page then shows the picture without its overlay).
    pub async fn mip_layout(
        &self,
        user: &User,
        study_id: &str,
        tp: PetTimepoint,
    ) -> Result<Option<MipLayout>> {
        let v = self.visible(user, study_id).await?;
        let Some(q) = v.participant.pet_quantification(tp) else {
            return Ok(None);
        };
        let Some(archive) = self.archive() else {
            return Ok(None);
        };
        let path = layout_path(&mip_path(archive, study_id, &q.quantification_id));
        let read = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| Error::internal("reading the MIP marker layout", e))?;
        Ok(read
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// The MIP picture of a time point's current quantification (PNG bytes), drawn again
    /// from the archive when the saved one is missing.
    pub async fn mip_png(&self, user: &User, study_id: &str, tp: PetTimepoint) -> Result<Vec<u8>> {
        let v = self.visible(user, study_id).await?;
        let q = v
            .participant
            .pet_quantification(tp)
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(format!("{} of {study_id} is not quantified", tp.label()))
            })?;
        let archive = self.archive_or_refuse()?.clone();
        let path = mip_path(&archive, study_id, &q.quantification_id);
        let id = study_id.to_string();
        tokio::task::spawn_blocking(move || draw_mip(&archive, &path, &q, &id))
            .await
            .map_err(|e| Error::internal("drawing the MIP", e))?
    }
}

fn draw_mip(
    archive: &Archive,
    path: &std::path::Path,
    q: &PetQuantification,
    id: &str,
) -> Result<Vec<u8>> {
    if let Ok(bytes) = std::fs::read(path) {
        return Ok(bytes);
    }
    let files = archive
        .series_files(&q.series_instance_uid)
        .map_err(|e| Error::internal("reading the archive", e))?;
    let loaded = pet::suv::load_suv(&files, &SuvOptions::default())
        .map_err(|e| pet_refusal(format!("Series cannot be read any more: {e}")))?;
    if let Err(r) = &loaded.calibration {
        return Err(pet_refusal(format!("No SUV: {}", r.reasons.join("; "))));
    }
    let suv = loaded.series.volume;
    let markers: Vec<(u32, [f64; 3])> = q
        .candidates
        .iter()
        .map(|c| (c.number, c.centroid_mm))
        .collect();
    let png = pet::mip::coronal_mip_png(&suv, &markers, MIP_MAX_SUV);
    if let Err(e) = save_mip(path, &png) {
        tracing::warn!(study = %id, error = %e, "MIP not cached");
    }
    if let Err(e) = save_layout(path, pet::mip::coronal_mip_layout(&suv, &markers).as_ref()) {
        tracing::warn!(study = %id, error = %e, "MIP marker layout not cached");
    }
    Ok(png)
}
