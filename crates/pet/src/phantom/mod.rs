//! A synthetic whole-body [68Ga]Ga-ABY-025 PET of a woman with metastatic breast cancer,
//! written as a DICOM series with its ground truth.
//!
//! Pipeline: anatomy and lesions ([`anatomy`]) painted in SUV on the voxel grid (lesion
//! spheres with sub-voxel coverage) → scanner blur ([`scanner`], separable Gaussian PSF)
//! → correlated noise → conversion to Bq/mL with the SUV factor of the simulated
//! injection → one DICOM file per slice ([`dicom`]) plus `ground_truth.json`. The same
//! phantom can be written as one Enhanced PET Image file instead ([`enhanced`],
//! [`write_enhanced_phantom_with`]).
//!
//! A caller may instead ask for the lesions ([`PhantomSpec::lesions`]: site, SUVmax,
//! diameter) and the liver's uptake ([`PhantomSpec::liver_suv`]), as the demo does for
//! each simulated woman: the lesions take anatomical slots of their site (`slots`) and
//! get the uptake that makes the noise-free image's SUVmax the one requested, the
//! scanner's partial-volume loss compensated (`calibrate`).
//!
//! SUV factor (QIBA vendor-neutral pseudo-code, body-weight SUV): with `DecayCorrection`
//! START the image is decay corrected to the series start, so
//! `SUV = Bq/mL × weight_g / (dose_Bq × 2^(−(series − injection) / T½))`; the ground
//! truth holds that factor as `suv_per_bqml`.

pub mod anatomy;
mod calibrate;
pub mod dicom;
pub mod enhanced;
mod render;
pub mod scanner;
mod slots;

use crate::physiology::Organ;
use crate::volume::Volume;
use anatomy::{LesionSite, Solid};
use rayon::prelude::*;
use serde::Serialize;
pub use slots::{DIAMETER_RANGE_MM, LESION_GAP_MM, LesionRequest, MAX_REQUESTED_LESIONS};
use std::path::{Path, PathBuf};

/// What went wrong while writing a phantom.
#[derive(Debug, thiserror::Error)]
pub enum PhantomError {
    /// The spec cannot be simulated.
    #[error("invalid phantom spec: {0}")]
    InvalidSpec(String),
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A DICOM file could not be encoded.
    #[error("cannot encode DICOM file {path}: {message}")]
    Dicom {
        /// The file.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
}

/// Largest phantom simulated (200 M voxels: 0.8 GB per float32 copy, three copies at
/// most while blurring and adding noise).
pub const MAX_VOXELS: usize = 200_000_000;

/// Settings of a phantom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhantomSpec {
    /// Seed of anatomy variation, lesions, noise and UIDs.
    pub seed: u64,
    /// Grid: columns, rows, slices.
    pub dims: [usize; 3],
    /// Voxel spacing along a row, a column and between slices (mm).
    pub spacing_mm: [f64; 3],
    /// Scanner resolution, FWHM of the Gaussian PSF (mm).
    pub psf_fwhm_mm: f64,
    /// Noise level: standard deviation = `noise × √SUV`. The default 0.15 gives a
    /// coefficient of variation of about 17 % in soft tissue (SUV 0.8) and 3–4 % in the
    /// liver, in the range of clinical whole-body Ga-68 scans.
    pub noise: f64,
    /// Patient weight (kg).
    pub weight_kg: f64,
    /// Patient height (m).
    pub height_m: f64,
    /// Injected activity (MBq).
    pub injected_mbq: f64,
    /// Time from injection to the series start (min).
    pub uptake_min: f64,
    /// PatientID written (in HER2-Ex the scanner sends the study id); `PHANTOM-<seed>` when `None`.
    pub patient_id: Option<String>,
    /// Injection date and time, scanner local time as DICOM writes it (default 2026-03-02 09:00).
    pub injected_at: chrono::NaiveDateTime,
    /// Lesions asked for, in this order, instead of the seeded ones (`None`: seeded). Each
    /// is placed in a slot of its site and given the uptake that makes its noise-free
    /// SUVmax the one requested (see [`LesionRequest`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lesions: Option<Vec<LesionRequest>>,
    /// Liver uptake (SUV) instead of the seeded 15–22 (`None`: seeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liver_suv: Option<f64>,
    /// Which exam of the same woman (0 = the first): the anatomy and the lesions' places
    /// follow `seed` alone, so a later exam shows her lesions where they were; its noise
    /// and UIDs follow `seed` and `exam`, so it is another series.
    #[serde(skip_serializing_if = "is_zero")]
    pub exam: u64,
    /// Where the requested lesions sit: placed as these requests were placed (a woman's
    /// first exam's), each then drawn with the size and uptake `lesions` asks for, so a
    /// later exam shows her lesions where they were even when they shrank. `lesions` may
    /// add new ones at the end, placed after these. `None`: placed as `lesions` asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub places: Option<Vec<LesionRequest>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl PhantomSpec {
    /// The default phantom: 150 × 150 × 250 voxels of 4 mm (60 × 60 × 100 cm).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            dims: [150, 150, 250],
            spacing_mm: [4.0, 4.0, 4.0],
            psf_fwhm_mm: 6.0,
            noise: 0.15,
            weight_kg: 68.0,
            height_m: 1.66,
            injected_mbq: 150.0,
            uptake_min: 120.0,
            patient_id: None,
            injected_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .unwrap_or_default(),
            lesions: None,
            liver_suv: None,
            exam: 0,
            places: None,
        }
    }

    /// The demo phantom: 100 × 100 × 160 voxels (6 × 6 × 6.25 mm), same field as
    /// [`PhantomSpec::new`], small enough to write one per participant of a 70-woman demo
    /// in a fraction of a second each. Noise scales with the voxel: the same counts per
    /// millilitre spread over voxels 3.5 × larger give 1/√3.5 of the default's noise.
    pub fn demo(seed: u64) -> Self {
        let spacing_mm = [6.0, 6.0, 6.25];
        let voxel_ratio = spacing_mm.iter().product::<f64>() / 64.0;
        Self {
            dims: [100, 100, 160],
            spacing_mm,
            noise: 0.15 / voxel_ratio.sqrt(),
            ..Self::new(seed)
        }
    }

    /// The benchmark phantom: 200 × 200 × 600 voxels (3 × 3 × 1.667 mm), same field.
    pub fn bench(seed: u64) -> Self {
        Self {
            dims: [200, 200, 600],
            spacing_mm: [3.0, 3.0, 1000.0 / 600.0],
            ..Self::new(seed)
        }
    }

    fn validate(&self) -> Result<(), PhantomError> {
        let bad = |m: &str| Err(PhantomError::InvalidSpec(m.to_string()));
        if self.dims.contains(&0)
            || self.dims[0] > 1024
            || self.dims[1] > 1024
            || self.dims[2] > 4000
            || self.dims.iter().product::<usize>() > MAX_VOXELS
        {
            return bad("dims must be 1..=1024 in-plane, 1..=4000 slices, at most 200 M voxels");
        }
        if !self
            .spacing_mm
            .iter()
            .all(|s| s.is_finite() && (0.1..=50.0).contains(s))
        {
            return bad("spacing must be within 0.1..=50 mm");
        }
        let positive = [self.weight_kg, self.height_m, self.injected_mbq];
        if !positive.iter().all(|v| v.is_finite() && *v > 0.0) {
            return bad("weight, height and injected activity must be positive");
        }
        let non_negative = [self.psf_fwhm_mm, self.noise, self.uptake_min];
        if !non_negative.iter().all(|v| v.is_finite() && *v >= 0.0) || self.uptake_min > 24.0 * 60.0
        {
            return bad(
                "PSF, noise and uptake time must be finite, non-negative, uptake within a day",
            );
        }
        if let Some(liver) = self.liver_suv
            && !(liver.is_finite() && liver > 0.0 && liver <= 100.0)
        {
            return bad("liver_suv must be within (0, 100]");
        }
        self.lesions.as_deref().map_or(Ok(()), slots::check)
    }

    /// The seed of this exam's noise and UIDs: `seed` for the first exam.
    pub fn exam_seed(&self) -> u64 {
        if self.exam == 0 {
            self.seed
        } else {
            self.seed ^ self.exam.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        }
    }

    /// SUV per Bq/mL (body-weight SUV, decay to the series start).
    pub fn suv_per_bqml(&self) -> f64 {
        let decayed =
            self.injected_mbq * 1e6 * (-(self.uptake_min * 60.0) / dicom::GA68_HALF_LIFE_S).exp2();
        self.weight_kg * 1000.0 / decayed
    }
}

/// A lesion of the phantom as simulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrueLesion {
    /// Number from 1.
    pub id: u32,
    /// Site.
    pub organ: LesionSite,
    /// Centre (mm, patient LPS).
    pub centre_mm: [f64; 3],
    /// Diameter (mm).
    pub diameter_mm: f64,
    /// Uniform uptake inside the sphere before the scanner blur (SUV).
    pub activity_suv: f64,
    /// True SUVmax as simulated: the highest voxel of the noise-free blurred image
    /// within the sphere (the partial-volume loss of the scanner included).
    pub true_suv_max: f64,
    /// Uptake of the tissue around the lesion (SUV).
    pub background_suv: f64,
    /// Anatomical slot of a requested lesion ("axillary node left, level I"); `None` for
    /// the seeded lesions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// An organ or tissue of the phantom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrueOrgan {
    /// Anatomical name.
    pub name: String,
    /// Physiological label the detector should give its uptake, if any.
    pub physiological: Option<Organ>,
    /// Shape.
    pub solid: Solid,
    /// Uptake (SUV).
    pub suv: f64,
}

/// Everything known about a written phantom (also saved as `ground_truth.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundTruth {
    /// The settings used.
    pub spec: PhantomSpec,
    /// Multiply Bq/mL by this to get body-weight SUV.
    pub suv_per_bqml: f64,
    /// Grid origin: centre of the first voxel (mm).
    pub origin_mm: [f64; 3],
    /// StudyInstanceUID and SeriesInstanceUID written.
    pub study_uid: String,
    /// SeriesInstanceUID written.
    pub series_uid: String,
    /// Lesions.
    pub lesions: Vec<TrueLesion>,
    /// Organs and tissues, in painting order (later ones overwrite earlier ones).
    pub organs: Vec<TrueOrgan>,
    /// Files written, relative to the output folder, slice 0 (lowest z) first.
    pub files: Vec<String>,
}

/// Simulates the phantom in SUV (after blur and noise) with its ground truth; `files` is
/// left empty. Deterministic for a given spec, whatever the thread count.
pub fn simulate(spec: &PhantomSpec) -> Result<(Volume, GroundTruth), PhantomError> {
    spec.validate()?;
    let mut anatomy = anatomy::anatomy_with(spec.seed, spec.liver_suv);
    let mut vol = empty_grid(spec);
    let origin = vol.origin_mm;
    vol.data = render::paint_tissue(&vol, &anatomy);
    let sigma = spec.psf_fwhm_mm / scanner::FWHM_PER_SIGMA;
    let taps = spec.spacing_mm.map(|sp| scanner::gaussian_taps(sigma / sp));
    let taps = [&taps[0][..], &taps[1][..], &taps[2][..]];
    let mut locations = Vec::new();
    if let Some(requests) = &spec.lesions {
        let placed = requested_lesions(&vol, taps, &anatomy, requests, spec)?;
        (anatomy.lesions, locations) = placed
            .into_iter()
            .map(|p| (p.lesion, Some(p.location)))
            .unzip();
    }
    // Lesions over the tissue; the grid's geometry stays in `vol` while its data is painted.
    let mut data = std::mem::take(&mut vol.data);
    for l in &anatomy.lesions {
        render::paint_lesion(&vol, &mut data, l);
    }
    vol.data = data;
    scanner::blur(&mut vol.data, spec.dims, taps);
    let lesions = true_lesions(&vol, &anatomy, &locations);
    scanner::add_noise(&mut vol.data, spec.dims, spec.noise, spec.exam_seed());
    let organs = anatomy
        .regions
        .iter()
        .map(|r| TrueOrgan {
            name: r.name.to_string(),
            physiological: r.organ,
            solid: r.solid,
            suv: r.suv,
        })
        .collect();
    let header = header(spec, origin);
    let truth = GroundTruth {
        spec: spec.clone(),
        suv_per_bqml: spec.suv_per_bqml(),
        origin_mm: origin,
        study_uid: header.uid(1, 0),
        series_uid: header.uid(2, 0),
        lesions,
        organs,
        files: Vec::new(),
    };
    Ok((vol, truth))
}

/// Writes the default-size phantom for `seed` into `out_dir`.
pub fn write_phantom(out_dir: &Path, seed: u64) -> Result<GroundTruth, PhantomError> {
    write_phantom_with(out_dir, &PhantomSpec::new(seed))
}

/// Writes the phantom of `spec` into `out_dir` (created if missing): one DICOM file per
/// slice, `PT000001.dcm` at the head first, and `ground_truth.json`.
pub fn write_phantom_with(out_dir: &Path, spec: &PhantomSpec) -> Result<GroundTruth, PhantomError> {
    let (truth, slices) = phantom_slices(spec)?;
    write_files(out_dir, truth, &slices)
}

/// The name of the one file [`write_enhanced_phantom_with`] writes.
pub const ENHANCED_FILE: &str = "PT_ENHANCED.dcm";

/// Writes the phantom of `spec` into `out_dir` (created if missing) as one Enhanced PET
/// Image file, [`ENHANCED_FILE`], whose frames are the slices [`write_phantom_with`]
/// writes as files, and `ground_truth.json`.
pub fn write_enhanced_phantom_with(
    out_dir: &Path,
    spec: &PhantomSpec,
) -> Result<GroundTruth, PhantomError> {
    let (vol, mut truth) = simulate(spec)?;
    let header = header(spec, truth.origin_mm);
    let bq_per_suv = (1.0 / truth.suv_per_bqml) as f32;
    let bqml: Vec<f32> = vol.data.par_iter().map(|v| v * bq_per_suv).collect();
    truth.files = vec![ENHANCED_FILE.to_string()];
    let bytes = enhanced::encode_enhanced(Path::new(ENHANCED_FILE), &header, &bqml)?;
    write_files(out_dir, truth, &[bytes])
}

/// Writes `contents` under the names `truth.files` into `out_dir` (created if missing),
/// with `ground_truth.json`.
fn write_files(
    out_dir: &Path,
    truth: GroundTruth,
    contents: &[Vec<u8>],
) -> Result<GroundTruth, PhantomError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PhantomError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    contents
        .par_iter()
        .zip(&truth.files)
        .try_for_each(|(bytes, name)| {
            let path = out_dir.join(name);
            std::fs::write(&path, bytes).map_err(io(&path))
        })?;
    let json_path = out_dir.join("ground_truth.json");
    let json = serde_json::to_vec_pretty(&truth).map_err(|e| PhantomError::Io {
        path: json_path.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    Ok(truth)
}

/// The phantom of `spec` in memory: its ground truth (with the file names a folder
/// would hold) and each slice's DICOM Part 10 bytes, slice 0 (lowest z) first. For
/// callers that hand the series on without a folder (the demo stores it straight into
/// the archive).
pub fn phantom_slices(spec: &PhantomSpec) -> Result<(GroundTruth, Vec<Vec<u8>>), PhantomError> {
    let (vol, mut truth) = simulate(spec)?;
    let header = header(spec, truth.origin_mm);
    let plane = spec.dims[0] * spec.dims[1];
    let nz = spec.dims[2];
    let bq_per_suv = (1.0 / truth.suv_per_bqml) as f32;
    truth.files = (0..nz).map(|k| format!("PT{:06}.dcm", nz - k)).collect();
    let slices = vol
        .data
        .par_chunks(plane)
        .enumerate()
        .map(|(k, slice)| {
            let bq: Vec<f32> = slice.iter().map(|v| v * bq_per_suv).collect();
            dicom::encode_slice(Path::new(&truth.files[k]), &header, k, &bq)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((truth, slices))
}

/// The phantom's grid, centred on the origin, with no data yet.
fn empty_grid(spec: &PhantomSpec) -> Volume {
    let [nx, ny, nz] = spec.dims;
    let s = spec.spacing_mm;
    Volume {
        dims: spec.dims,
        spacing_mm: s,
        origin_mm: [
            -(nx as f64 - 1.0) * s[0] / 2.0,
            -(ny as f64 - 1.0) * s[1] / 2.0,
            -(nz as f64 - 1.0) * s[2] / 2.0,
        ],
        direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        data: Vec::new(),
    }
}

/// The lesions as a reader of the noise-free blurred image `vol` would measure them,
/// numbered from 1 in the anatomy's order; `locations` names the slots of requested ones.
fn true_lesions(
    vol: &Volume,
    anatomy: &anatomy::Anatomy,
    locations: &[Option<&str>],
) -> Vec<TrueLesion> {
    anatomy
        .lesions
        .iter()
        .enumerate()
        .filter_map(|(n, l)| {
            let true_suv_max = render::max_in_sphere(vol, l.centre_mm, l.diameter_mm / 2.0)?;
            Some(TrueLesion {
                id: n as u32 + 1,
                organ: l.site,
                centre_mm: l.centre_mm,
                diameter_mm: l.diameter_mm,
                activity_suv: l.activity_suv,
                true_suv_max,
                background_suv: anatomy.tissue_suv(l.centre_mm),
                location: locations.get(n).copied().flatten().map(str::to_string),
            })
        })
        .collect()
}

/// Places the requested lesions and gives each the uptake that makes its noise-free
/// SUVmax the one requested ([`calibrate`]); `tissue` holds the painted tissue image.
fn requested_lesions(
    tissue: &Volume,
    taps: [&[f32]; 3],
    anatomy: &anatomy::Anatomy,
    requests: &[LesionRequest],
    spec: &PhantomSpec,
) -> Result<Vec<slots::Placed>, PhantomError> {
    let layout: Vec<LesionRequest> = match &spec.places {
        None => requests.to_vec(),
        Some(places) if places.len() <= requests.len() => {
            slots::check(places)?;
            places
                .iter()
                .chain(&requests[places.len()..])
                .cloned()
                .collect()
        }
        Some(places) => {
            return Err(PhantomError::InvalidSpec(format!(
                "places: {} lesions placed, only {} requested",
                places.len(),
                requests.len()
            )));
        }
    };
    let mut placed = slots::place(anatomy, &layout, spec.seed)?;
    for (n, p) in placed.iter_mut().enumerate() {
        let l = &mut p.lesion;
        l.diameter_mm = requests[n].diameter_mm;
        let target = requests[n].suv_max;
        let background = anatomy.tissue_suv(l.centre_mm);
        l.activity_suv =
            calibrate::activity_for_peak(tissue, taps, l.centre_mm, l.diameter_mm, target)
                .filter(|a| *a > background)
                .ok_or_else(|| {
                    PhantomError::InvalidSpec(format!(
                        "lesions[{n}]: no uptake gives SUVmax {target} in the {} on this grid \
                         (centre outside the field, or hotter surroundings)",
                        p.location
                    ))
                })?;
    }
    Ok(placed)
}

fn header(spec: &PhantomSpec, origin: [f64; 3]) -> dicom::SeriesHeader {
    use chrono::Timelike;
    let injection_s = f64::from(spec.injected_at.time().num_seconds_from_midnight());
    dicom::SeriesHeader {
        seed: spec.exam_seed(),
        patient_id: spec
            .patient_id
            .clone()
            .unwrap_or_else(|| format!("PHANTOM-{}", spec.seed)),
        date: spec.injected_at.format("%Y%m%d").to_string(),
        injection_s,
        series_s: injection_s + spec.uptake_min * 60.0,
        dose_bq: spec.injected_mbq * 1e6,
        weight_kg: spec.weight_kg,
        height_m: spec.height_m,
        dims: spec.dims,
        spacing_mm: spec.spacing_mm,
        origin_mm: origin,
        bed_mm: 160.0,
        bed_s: 150.0,
        fwhm_mm: spec.psf_fwhm_mm,
    }
}
