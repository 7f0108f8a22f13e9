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
//! read as Stockholm local time unless the header gives an offset.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use archive::{Archive, SeriesSummary};
use pet::lesions::{LesionParams, detect};
use pet::suv::SuvOptions;
use protocol::imaging::{PetCandidate, PetHeaderFacts, PetQuantParameters, PetQuantification};
use protocol::{Command, PetTimepoint, RecordPetQuantification, Refusal, Rule, Settings};

use crate::AppState;
use crate::api::visible_participant;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::roles::Capability;
use crate::write::{self, Actor, Written};

/// The algorithm version recorded with every quantification.
pub const ALGORITHM_VERSION: &str = concat!("her2ex-pet ", env!("CARGO_PKG_VERSION"));

/// Upper end of the MIP's grey scale, SUV (the tracer's kidneys go far above; lesions of
/// interest sit around the avid threshold of 6).
pub const MIP_MAX_SUV: f32 = 12.0;

fn archive(state: &AppState) -> Result<&Arc<Archive>, ApiError> {
    state.archive.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "this server has no DICOM archive: start it with a data directory".into(),
        )
    })
}

fn pet_refusal(message: String) -> ApiError {
    ApiError::Refused(Refusal::new(Rule::PET_EXAM, message))
}

/// The archived PET series whose PatientID is this participant's study id (the scanners
/// send the study id as PatientID), newest first.
pub async fn series_of(
    state: &AppState,
    user: &CurrentUser,
    study_id: &str,
) -> Result<Vec<SeriesSummary>, ApiError> {
    visible_participant(state, user, study_id).await?;
    let Some(archive) = state.archive.clone() else {
        return Ok(Vec::new());
    };
    let id = study_id.to_string();
    let mut list = tokio::task::spawn_blocking(move || archive.series())
        .await
        .map_err(|e| ApiError::internal("listing series", e))?
        .map_err(|e| ApiError::internal("listing series", e))?;
    list.retain(|s| s.is_pet && s.patient_id.as_deref() == Some(id.as_str()));
    list.sort_by_key(|s| std::cmp::Reverse(s.last_received_at));
    Ok(list)
}

/// A quantified series: the command for the write path and its MIP picture.
pub struct Quantified {
    /// The command to record.
    pub command: RecordPetQuantification,
    /// Coronal MIP with numbered candidate markers, PNG.
    pub mip_png: Vec<u8>,
}

fn local_to_utc(t: NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    crate::pages::forms::SITE_TZ
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn lesion_params(s: &Settings) -> LesionParams {
    LesionParams {
        threshold_suv: s.pet_quantification.candidate_threshold_suv as f32,
        min_volume_ml: s.pet_quantification.min_volume_ml,
        mtv_fraction: s.pet_quantification.mtv_fraction as f32,
        avid_suvmax: s.avid_suvmax_threshold as f32,
    }
}

/// Reads, calibrates and measures an archived series (blocking; seconds of work).
pub fn quantify_series(
    archive: &Archive,
    series_uid: &str,
    study_id: &str,
    tp: PetTimepoint,
    administration_id: &str,
    settings: &Settings,
) -> Result<Quantified, ApiError> {
    let files = archive
        .series_files(series_uid)
        .map_err(|e| ApiError::internal("reading the archive", e))?;
    if files.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no series {series_uid} in the DICOM archive"
        )));
    }
    // One pass: headers calibrated first, each slice scaled to SUV as it is read.
    let loaded = pet::suv::load_suv(&files, &SuvOptions::default())
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
    let patient_id = archive
        .series()
        .map_err(|e| ApiError::internal("reading the archive", e))?
        .into_iter()
        .find(|s| s.series_instance_uid == series_uid)
        .and_then(|s| s.patient_id);
    match patient_id.as_deref() {
        Some(pid) if pid == study_id => {}
        Some(pid) if protocol::privacy::find_personal_number(pid).is_some() => warnings.push(
            "The PatientID in the DICOM header looks like a personal identity number (not shown, not stored); the scanner should send the study id.".into(),
        ),
        Some(_) | None => warnings.push(format!(
            "The PatientID in the DICOM header is not the study id {study_id}; check that this is her series."
        )),
    }
    let header = PetHeaderFacts {
        injected_activity_mbq: cal.dose_bq.map(|b| b / 1e6),
        injected_at: cal.injection_datetime.and_then(local_to_utc),
        weight_kg: first.and_then(|h| h.weight_kg),
        height_cm: first.and_then(|h| h.height_m).map(|m| m * 100.0),
        scan_at: cal.scan_datetime.and_then(local_to_utc),
        scan_datetime_rule: cal.scan_datetime_rule.map(|r| r.as_str().to_string()),
        suvbw_scale_factor: cal.instances.first().and_then(|i| i.suvbw_scale_factor),
        half_life_s: cal.half_life_s,
    };
    let markers: Vec<(u32, [f64; 3])> = candidates
        .iter()
        .map(|c| (c.number, c.centroid_mm))
        .collect();
    let mip_png = pet::mip::coronal_mip_png(suv, &markers, MIP_MAX_SUV);
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
        },
        mip_png,
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

fn save_mip(path: &std::path::Path, png: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, png)?;
    std::fs::rename(&tmp, path)
}

/// Quantifies `series_uid` as this participant's exam at `tp` and records it.
pub async fn quantify(
    state: &AppState,
    user: &CurrentUser,
    study_id: &str,
    tp: PetTimepoint,
    expected_version: i64,
    series_uid: &str,
) -> Result<Written, ApiError> {
    user.require(Capability::QuantifyImaging)?;
    visible_participant(state, user, study_id).await?;
    let series_uid = series_uid.trim();
    if !archive::is_valid_uid(series_uid) {
        return Err(ApiError::BadRequest(format!(
            "{series_uid:?} is not a DICOM UID (digits and dots, at most 64 characters)"
        )));
    }
    let archive = archive(state)?.clone();
    let loaded = write::load(&state.store, study_id).await?;
    if loaded.version != expected_version {
        return Err(ApiError::Conflict {
            expected: expected_version,
            actual: loaded.version,
        });
    }
    let Some(admin) = loaded.participant.imp_administration(tp) else {
        return Err(pet_refusal(format!(
            "No IMP administration is recorded for {}: record it before reading the series.",
            tp.label()
        )));
    };
    let administration_id = admin.entry_id.clone();
    let settings = crate::admin::load_settings(&state.store).await?;
    let (uid, id) = (series_uid.to_string(), study_id.to_string());
    let archive2 = archive.clone();
    let q = tokio::task::spawn_blocking(move || {
        quantify_series(&archive2, &uid, &id, tp, &administration_id, &settings)
    })
    .await
    .map_err(|e| ApiError::internal("quantifying", e))??;
    let written = write::execute(
        state,
        &Actor::from(user),
        study_id,
        expected_version,
        &Command::RecordPetQuantification(q.command),
        None,
    )
    .await?;
    let after = write::load(&state.store, study_id).await?;
    if let Some(current) = after.participant.pet_quantification(tp) {
        let path = mip_path(&archive, study_id, &current.quantification_id);
        if let Err(e) = save_mip(&path, &q.mip_png) {
            tracing::warn!(path = %path.display(), error = %e, "MIP not saved; it is drawn again when asked for");
        }
    }
    Ok(written)
}

/// The current quantification of a time point, if the user may see the participant.
pub async fn quantification_of(
    state: &AppState,
    user: &CurrentUser,
    study_id: &str,
    tp: PetTimepoint,
) -> Result<PetQuantification, ApiError> {
    visible_participant(state, user, study_id).await?;
    let loaded = write::load(&state.store, study_id).await?;
    loaded
        .participant
        .pet_quantification(tp)
        .cloned()
        .ok_or_else(|| {
            ApiError::NotFound(format!("{} of {study_id} is not quantified", tp.label()))
        })
}

/// The MIP picture of a time point's current quantification (PNG bytes).
pub async fn mip_png(
    state: &AppState,
    user: &CurrentUser,
    study_id: &str,
    tp: PetTimepoint,
) -> Result<Vec<u8>, ApiError> {
    let q = quantification_of(state, user, study_id, tp).await?;
    let archive = archive(state)?.clone();
    let path = mip_path(&archive, study_id, &q.quantification_id);
    let id = study_id.to_string();
    tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        if let Ok(bytes) = std::fs::read(&path) {
            return Ok(bytes);
        }
        let files = archive
            .series_files(&q.series_instance_uid)
            .map_err(|e| ApiError::internal("reading the archive", e))?;
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
        if let Err(e) = save_mip(&path, &png) {
            tracing::warn!(study = %id, error = %e, "MIP not cached");
        }
        Ok(png)
    })
    .await
    .map_err(|e| ApiError::internal("drawing the MIP", e))?
}
