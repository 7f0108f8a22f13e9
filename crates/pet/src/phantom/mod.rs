//! A synthetic whole-body [68Ga]Ga-ABY-025 PET of a woman with metastatic breast cancer,
//! written as a DICOM series with its ground truth.
//!
//! Pipeline: anatomy and lesions ([`anatomy`]) painted in SUV on the voxel grid (lesion
//! spheres with sub-voxel coverage) → scanner blur ([`scanner`], separable Gaussian PSF)
//! → correlated noise → conversion to Bq/mL with the SUV factor of the simulated
//! injection → one DICOM file per slice ([`dicom`]) plus `ground_truth.json`.
//!
//! SUV factor (QIBA vendor-neutral pseudo-code, body-weight SUV): with `DecayCorrection`
//! START the image is decay corrected to the series start, so
//! `SUV = Bq/mL × weight_g / (dose_Bq × 2^(−(series − injection) / T½))`; the ground
//! truth holds that factor as `suv_per_bqml`.

pub mod anatomy;
pub mod dicom;
pub mod scanner;

use crate::physiology::Organ;
use crate::volume::Volume;
use anatomy::{Anatomy, LesionSite, Solid};
use rayon::prelude::*;
use serde::Serialize;
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
        Ok(())
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
    let anatomy = anatomy::anatomy(spec.seed);
    let [nx, ny, nz] = spec.dims;
    let s = spec.spacing_mm;
    let origin = [
        -(nx as f64 - 1.0) * s[0] / 2.0,
        -(ny as f64 - 1.0) * s[1] / 2.0,
        -(nz as f64 - 1.0) * s[2] / 2.0,
    ];
    let mut vol = Volume {
        dims: spec.dims,
        spacing_mm: s,
        origin_mm: origin,
        direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        data: Vec::new(),
    };
    vol.data = paint(&vol, &anatomy);
    let sigma = spec.psf_fwhm_mm / scanner::FWHM_PER_SIGMA;
    let taps = s.map(|sp| scanner::gaussian_taps(sigma / sp));
    scanner::blur(&mut vol.data, spec.dims, [&taps[0], &taps[1], &taps[2]]);
    let lesions = anatomy
        .lesions
        .iter()
        .enumerate()
        .filter_map(|(n, l)| {
            let true_suv_max = max_in_sphere(&vol, l.centre_mm, l.diameter_mm / 2.0)?;
            Some(TrueLesion {
                id: n as u32 + 1,
                organ: l.site,
                centre_mm: l.centre_mm,
                diameter_mm: l.diameter_mm,
                activity_suv: l.activity_suv,
                true_suv_max,
                background_suv: anatomy.tissue_suv(l.centre_mm),
            })
        })
        .collect();
    scanner::add_noise(&mut vol.data, spec.dims, spec.noise, spec.seed);
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
    let (vol, mut truth) = simulate(spec)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PhantomError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let header = header(spec, truth.origin_mm);
    let plane = spec.dims[0] * spec.dims[1];
    let nz = spec.dims[2];
    let bq_per_suv = (1.0 / truth.suv_per_bqml) as f32;
    truth.files = (0..nz).map(|k| format!("PT{:06}.dcm", nz - k)).collect();
    vol.data
        .par_chunks(plane)
        .enumerate()
        .try_for_each(|(k, slice)| {
            let bq: Vec<f32> = slice.iter().map(|v| v * bq_per_suv).collect();
            dicom::write_slice(&out_dir.join(&truth.files[k]), &header, k, &bq)
        })?;
    let json_path = out_dir.join("ground_truth.json");
    let json = serde_json::to_vec_pretty(&truth).map_err(|e| PhantomError::Io {
        path: json_path.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    Ok(truth)
}

fn header(spec: &PhantomSpec, origin: [f64; 3]) -> dicom::SeriesHeader {
    use chrono::Timelike;
    let injection_s = f64::from(spec.injected_at.time().num_seconds_from_midnight());
    dicom::SeriesHeader {
        seed: spec.seed,
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

/// Tissue at voxel centres, then lesion spheres blended by their coverage of each voxel
/// (4 × 4 × 4 sub-samples), lesion uptake replacing the tissue's.
fn paint(vol: &Volume, anatomy: &Anatomy) -> Vec<f32> {
    let [nx, ny, nz] = vol.dims;
    let mut data = vec![0.0f32; nx * ny * nz];
    // The phantom grid is axis-aligned (identity direction), so coordinates are separable.
    let xs: Vec<f64> = (0..nx)
        .map(|i| vol.origin_mm[0] + i as f64 * vol.spacing_mm[0])
        .collect();
    let ys: Vec<f64> = (0..ny)
        .map(|j| vol.origin_mm[1] + j as f64 * vol.spacing_mm[1])
        .collect();
    data.par_chunks_mut(nx * ny)
        .enumerate()
        .for_each(|(k, slice)| {
            let z = vol.origin_mm[2] + k as f64 * vol.spacing_mm[2];
            let regions: Vec<_> = anatomy
                .regions
                .iter()
                .rev()
                .filter(|r| {
                    let [lo, hi] = r.solid.z_extent();
                    z >= lo && z <= hi
                })
                .collect();
            for (j, &y) in ys.iter().enumerate() {
                for (i, &x) in xs.iter().enumerate() {
                    if let Some(r) = regions.iter().find(|r| r.solid.contains([x, y, z])) {
                        slice[i + j * nx] = r.suv as f32;
                    }
                }
            }
        });
    const SUB: usize = 4;
    for l in &anatomy.lesions {
        let r = l.diameter_mm / 2.0;
        let (lo, hi) = voxel_box(
            vol,
            l.centre_mm,
            r + vol.spacing_mm.iter().copied().fold(0.0, f64::max),
        );
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let mut inside = 0usize;
                    for a in 0..SUB * SUB * SUB {
                        let f = |n: usize| (n as f64 + 0.5) / SUB as f64 - 0.5;
                        let p = vol.position_mm(
                            i as f64 + f(a % SUB),
                            j as f64 + f(a / SUB % SUB),
                            k as f64 + f(a / (SUB * SUB)),
                        );
                        let d2: f64 = (0..3).map(|c| (p[c] - l.centre_mm[c]).powi(2)).sum();
                        inside += usize::from(d2 <= r * r);
                    }
                    let w = (inside as f64 / (SUB * SUB * SUB) as f64) as f32;
                    let idx = vol.index(i, j, k);
                    data[idx] = (1.0 - w) * data[idx] + w * l.activity_suv as f32;
                }
            }
        }
    }
    data
}

/// Inclusive voxel index box around a point (axis-aligned grid), clipped to the grid.
fn voxel_box(vol: &Volume, centre: [f64; 3], reach_mm: f64) -> ([usize; 3], [usize; 3]) {
    let mut lo = [0usize; 3];
    let mut hi = [0usize; 3];
    for a in 0..3 {
        let c = (centre[a] - vol.origin_mm[a]) / vol.spacing_mm[a];
        let r = reach_mm / vol.spacing_mm[a];
        let max = vol.dims[a] as f64 - 1.0;
        lo[a] = (c - r).floor().clamp(0.0, max) as usize;
        hi[a] = (c + r).ceil().clamp(0.0, max) as usize;
    }
    (lo, hi)
}

/// Highest voxel whose centre lies in the sphere (or the voxel nearest the centre when
/// none does); `None` when the centre is outside the grid.
fn max_in_sphere(vol: &Volume, centre: [f64; 3], radius: f64) -> Option<f64> {
    let nearest: Vec<f64> = (0..3)
        .map(|a| ((centre[a] - vol.origin_mm[a]) / vol.spacing_mm[a]).round())
        .collect();
    if (0..3).any(|a| nearest[a] < 0.0 || nearest[a] > vol.dims[a] as f64 - 1.0) {
        return None;
    }
    let mut best = f64::from(
        vol.data[vol.index(
            nearest[0] as usize,
            nearest[1] as usize,
            nearest[2] as usize,
        )],
    );
    let (lo, hi) = voxel_box(vol, centre, radius);
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                let p = vol.position_mm(i as f64, j as f64, k as f64);
                if (0..3).map(|c| (p[c] - centre[c]).powi(2)).sum::<f64>() <= radius * radius {
                    best = best.max(f64::from(vol.data[vol.index(i, j, k)]));
                }
            }
        }
    }
    Some(best)
}
