//! SUV scale factors from the DICOM header, per the QIBA vendor-neutral SUV pseudo-code.
//!
//! | Units (0054,1001) | rescaled pixel value | factor to SUVbw |
//! |---|---|---|
//! | `BQML` | Bq/mL | weight [g] / decayed dose [Bq] |
//! | `CNTS` | counts | Philips (7053,1000), or (7053,1009) × the BQML factor |
//! | `GML` | SUV of the kind in SUVType (0054,1006) (default BW) | normaliser(BW) / normaliser(stored kind) |
//! | `CM2ML` | SUVbsa | weight [g] / BSA [cm²] |
//!
//! Decay correction (0054,1102): `START` decays the dose from injection to the scan
//! date-time chosen by [`scan_time`]; `ADMIN` means the image is already decay-corrected to
//! the injection, so the dose is not decayed; `NONE` (images not decay-corrected, as in the
//! IBSI DRO_3_4) decays the dose to the time each image's pixel values refer to: scan
//! date-time + FrameReferenceTime (PS3.3 C.8.9.4.1.5).
//!
//! Every assumption and fallback is a warning. The calculation is refused (a
//! [`SuvRefusal`], not an error) when the image is not attenuation-corrected, is said to be
//! decay-corrected while CorrectedImage lacks `DECY`, or lacks the dose, the injection time,
//! the weight or anything else needed; [`Allow`] overrides the first two, with a warning.
//!
//! An Enhanced PET Image keeps units, decay correction and frame timing elsewhere and
//! writes the dose in MBq (module `enhanced`); its frames are read into the same
//! [`header::SuvHeader`], so the rules here apply to them unchanged, with
//! DecayCorrectionDateTime, when given, as the time the dose is decayed to.
//!
//! Injected dose: RadionuclideTotalDose is Bq by the standard; a value below 10⁵ cannot be
//! a human PET dose in Bq (100 kBq) and is read as MBq, with a warning. In an Enhanced PET
//! Image it is MBq by the standard, and a value of 10⁵ or more (100 GBq) is read as Bq,
//! with a warning. Injection time:
//! RadiopharmaceuticalStartDateTime, else RadiopharmaceuticalStartTime on the scan date
//! (QIBA), a day earlier when that would be after the scan (injection before midnight).

pub mod body;
mod enhanced;
mod factor;
pub mod header;
pub mod scan_time;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDateTime;
use rayon::prelude::*;
use serde::Serialize;

pub use body::{Body, Sex, SuvType};
use factor::SeriesLevel;
use header::SuvHeader;
pub use scan_time::ScanTimeRule;

use crate::error::PetError;
use crate::series::{LoadedSeries, load_scaled};
use crate::voi::{block_min_max, combine_ranges};
use crate::volume::Volume;

/// Half-life of Ga-68 (PROTOCOL.md §6: 67.71 min).
pub const GA68_HALF_LIFE_S: f64 = 67.71 * 60.0;
/// Doses below this value cannot be Bq for a human PET scan and are read as MBq.
pub const MBQ_THRESHOLD: f64 = 1.0e5;

/// A physicist's override of a refusal; each use is reported as a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allow {
    /// Compute although CorrectedImage lacks `ATTN`.
    MissingAttn,
    /// Compute although CorrectedImage lacks `DECY` while DecayCorrection says otherwise.
    MissingDecy,
    /// When the injection's date and the scan's disagree (de-identification shifted them
    /// differently), take the injection's time of day on the scan date, as QIBA's
    /// pseudo-code does when only the time is present; reported as a warning.
    InjectionTimeOfDay,
}

impl Allow {
    /// Parses `missing-attn`, `missing-decy` or `injection-time-of-day`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "missing-attn" => Some(Self::MissingAttn),
            "missing-decy" => Some(Self::MissingDecy),
            "injection-time-of-day" => Some(Self::InjectionTimeOfDay),
            _ => None,
        }
    }
}

/// Choices of the caller.
#[derive(Debug, Clone, Default)]
pub struct SuvOptions {
    /// The SUV kind to compute (SUVbw by default).
    pub suv_type: SuvType,
    /// Refusals overridden.
    pub allow: BTreeSet<Allow>,
}

/// Units (0054,1001) this calculation handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Units {
    /// Bq/mL.
    Bqml,
    /// Counts (Philips).
    Cnts,
    /// g/mL: already an SUV.
    Gml,
    /// cm²/mL: already SUVbsa.
    Cm2ml,
}

/// DecayCorrection (0054,1102).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DecayCorrection {
    /// Decay-corrected to the scan start.
    Start,
    /// Decay-corrected to the administration.
    Admin,
    /// Not decay-corrected.
    None,
}

/// One image's SUV attributes, and which image it is.
#[derive(Debug, Clone, Copy)]
pub struct ImageHeader<'a> {
    /// SOPInstanceUID (0008,0018) of its file.
    pub sop_instance_uid: &'a str,
    /// Its frame number, from 1, in an enhanced multi-frame file.
    pub frame: Option<u32>,
    /// Its SUV attributes.
    pub header: &'a SuvHeader,
}

impl ImageHeader<'_> {
    /// The image in messages: see [`image_id`].
    pub fn id(&self) -> String {
        image_id(self.sop_instance_uid, self.frame)
    }
}

/// An image in messages and keys: its SOPInstanceUID, followed by ` frame N` for a frame of
/// an enhanced multi-frame file.
pub fn image_id(sop_instance_uid: &str, frame: Option<u32>) -> String {
    match frame {
        Some(n) => format!("{sop_instance_uid} frame {n}"),
        None => sop_instance_uid.to_string(),
    }
}

/// The factors of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceFactor {
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// Frame number, from 1, of a frame of an enhanced multi-frame file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
    /// Rule that gave the scan date-time, when one was needed.
    pub scan_datetime_rule: Option<ScanTimeRule>,
    /// Scan date-time, when one was needed.
    pub scan_datetime: Option<NaiveDateTime>,
    /// Injection date-time, when one was needed.
    pub injection_datetime: Option<NaiveDateTime>,
    /// Seconds from injection to the time the dose is decayed to (0 for ADMIN).
    pub decay_time_s: Option<f64>,
    /// Rescaled pixel value → SUVbw (g/mL per pixel unit); `None` if not computable.
    pub suvbw_scale_factor: Option<f64>,
    /// Rescaled pixel value → the requested SUV kind.
    pub scale_factor: f64,
}

/// The SUV calibration of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuvCalibration {
    /// Units of the pixel values.
    pub units: Units,
    /// The SUV kind the factors produce.
    pub suv_type: SuvType,
    /// DecayCorrection of the images.
    pub decay_correction: DecayCorrection,
    /// Scan-time rule of the first image (`None` for ADMIN, GML, CM2ML, Philips SUV factor).
    pub scan_datetime_rule: Option<ScanTimeRule>,
    /// Scan date-time of the first image.
    pub scan_datetime: Option<NaiveDateTime>,
    /// Injection date-time used.
    pub injection_datetime: Option<NaiveDateTime>,
    /// Decay time of the first image, seconds.
    pub decay_time_s: Option<f64>,
    /// Injected dose in Bq (after any MBq reading).
    pub dose_bq: Option<f64>,
    /// Half-life from the header, seconds.
    pub half_life_s: Option<f64>,
    /// Per image, in slice order.
    pub instances: Vec<InstanceFactor>,
    /// Every assumption and fallback.
    pub warnings: Vec<String>,
}

impl SuvCalibration {
    /// SUVbw factors keyed by image ([`image_id`]: the SOPInstanceUID, and the frame of an
    /// enhanced file).
    pub fn suvbw_scale_factors(&self) -> BTreeMap<String, Option<f64>> {
        self.instances
            .iter()
            .map(|i| (image_id(&i.sop_instance_uid, i.frame), i.suvbw_scale_factor))
            .collect()
    }
}

/// Why no SUV was computed: each reason names the missing or refused attribute.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("no SUV: {}", reasons.join("; "))]
pub struct SuvRefusal {
    /// What is missing or refused, with the attribute.
    pub reasons: Vec<String>,
}

/// Computes the SUV factors of every image of `series`.
pub fn calibrate(series: &LoadedSeries, opts: &SuvOptions) -> Result<SuvCalibration, SuvRefusal> {
    let headers: Vec<ImageHeader> = series.instances.iter().map(|i| i.suv_image()).collect();
    calibrate_headers(&headers, opts)
}

/// Computes the SUV factors from the headers of the images of a series.
pub fn calibrate_headers(
    headers: &[ImageHeader],
    opts: &SuvOptions,
) -> Result<SuvCalibration, SuvRefusal> {
    let refuse = |r: String| SuvRefusal { reasons: vec![r] };
    let first = headers
        .first()
        .ok_or_else(|| refuse("the series has no images".into()))?
        .header;
    let mut warnings: Vec<String> = Vec::new();
    for image in headers {
        for note in &image.header.unreadable {
            warnings.push(format!("{}: treated as absent: {note}", image.id()));
        }
    }
    let series = SeriesLevel::read(first, opts, &mut warnings)?;
    let earliest = headers
        .iter()
        .filter_map(|i| i.header.acquisition_datetime)
        .min();
    let mut instances = Vec::with_capacity(headers.len());
    let mut reasons = Vec::new();
    for image in headers {
        let h = image.header;
        if h.units != first.units || h.decay_correction != first.decay_correction {
            reasons.push(format!(
                "{}: Units or DecayCorrection differ within the series",
                image.id()
            ));
            continue;
        }
        match series.instance(image, earliest, &mut warnings) {
            Ok(f) => instances.push(f),
            Err(r) => reasons.push(r),
        }
    }
    if !reasons.is_empty() {
        // One reason per distinct problem, not one per slice.
        let mut seen = BTreeSet::new();
        reasons.retain(|r| seen.insert(r.clone()));
        return Err(SuvRefusal { reasons });
    }
    let mut seen = BTreeSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    let rules: BTreeSet<_> = instances
        .iter()
        .filter_map(|i| i.scan_datetime_rule)
        .collect();
    if rules.len() > 1 {
        warnings.push(format!("scan-time rule differs between images: {rules:?}"));
    }
    let first_factor = &instances[0];
    Ok(SuvCalibration {
        units: series.units,
        suv_type: opts.suv_type,
        decay_correction: series.decay,
        scan_datetime_rule: first_factor.scan_datetime_rule,
        scan_datetime: first_factor.scan_datetime,
        injection_datetime: first_factor.injection_datetime,
        decay_time_s: first_factor.decay_time_s,
        dose_bq: series.dose_bq,
        half_life_s: series.half_life_s,
        instances,
        warnings,
    })
}

/// A series read together with its SUV calibration.
#[derive(Debug, Clone)]
pub struct SuvSeries {
    /// The series; its volume holds SUVs when `calibration` is `Ok`, the rescaled pixel
    /// values otherwise.
    pub series: LoadedSeries,
    /// The calibration of the series' images, or why there is none.
    pub calibration: Result<SuvCalibration, SuvRefusal>,
    /// Lowest and highest finite SUV of the volume (`None` when refused or none finite),
    /// the same as [`crate::voi::min_max`] of the SUV volume.
    pub range: Option<(f64, f64)>,
}

/// Reads the largest PET series among `paths` and computes its SUV while the pixels are
/// read: the calibration comes from the headers, then each slice is rescaled and
/// multiplied by its factor in one pass. The volume is the one [`load_series_files`],
/// [`calibrate`] and [`scale_to_suv`] give, bit for bit, without a second pass over it.
///
/// [`load_series_files`]: crate::series::load_series_files
pub fn load_suv(paths: &[PathBuf], opts: &SuvOptions) -> Result<SuvSeries, PetError> {
    let mut calibration = None;
    let (series, range) = load_scaled(paths, None, |instances| {
        let headers: Vec<ImageHeader> = instances.iter().map(|i| i.suv_image()).collect();
        let result = calibrate_headers(&headers, opts);
        let factors = result
            .as_ref()
            .ok()
            .map(|c| c.instances.iter().map(|f| f.scale_factor).collect());
        calibration = Some(result);
        factors
    })?;
    let calibration = calibration.unwrap_or_else(|| {
        Err(SuvRefusal {
            reasons: vec!["the series has no images".into()],
        })
    });
    Ok(SuvSeries {
        series,
        calibration,
        range,
    })
}

/// The SUV volume: each slice of `series.volume` times its image's factor (a copy; see
/// [`scale_to_suv`] to convert the loaded volume in place and keep one volume in memory).
pub fn suv_volume(series: &LoadedSeries, calibration: &SuvCalibration) -> Volume {
    let mut volume = series.volume.clone();
    scale_to_suv(&mut volume, calibration);
    volume
}

/// Multiplies each slice of `volume` (rescaled pixel values, slice `k` from image `k` of
/// `calibration`) by its image's factor, in place, slices in parallel. Each voxel becomes
/// `(value as f64 × factor) as f32` on its own, so the result does not depend on the
/// thread count.
///
/// Returns the lowest and highest finite value of the volume afterwards, the same as
/// [`crate::voi::min_max`] (found while each slice is in cache, saving a pass over the
/// volume); `None` when no value is finite.
pub fn scale_to_suv(volume: &mut Volume, calibration: &SuvCalibration) -> Option<(f64, f64)> {
    let per_slice = volume.dims[0] * volume.dims[1];
    if per_slice == 0 {
        return None;
    }
    // Slices beyond the calibrated images keep their values but count in the range.
    let slices = volume.data.len().div_ceil(per_slice);
    let extra = slices.saturating_sub(calibration.instances.len());
    let factors = calibration
        .instances
        .par_iter()
        .map(|f| Some(f.scale_factor))
        .chain(rayon::iter::repeat_n(None, extra));
    let ranges: Vec<Option<(f32, f32)>> = volume
        .data
        .par_chunks_mut(per_slice)
        .zip(factors)
        .map(|(slice, factor)| {
            if let Some(f) = factor {
                for v in slice.iter_mut() {
                    *v = (f64::from(*v) * f) as f32;
                }
            }
            block_min_max(slice)
        })
        .collect();
    combine_ranges(ranges)
}
