//! Candidate lesions in an SUV volume and their metrics (PROTOCOL.md §6).
//!
//! Steps of [`detect`]:
//! 1. Connected components (26-connectivity) of voxels with SUV ≥ `threshold_suv`
//!    ([`components`]).
//! 2. Each component is summarised and the physiology heuristic labels kidneys, liver,
//!    spleen and bladder ([`crate::physiology`]). Such candidates are returned with
//!    `physiological: Some(organ)` and `her2_avid: false`: they are shown to the reader
//!    but never proposed as lesions or biopsy targets without a reader's confirmation.
//! 3. Inside the liver and the spleen (homogeneous uptake) lesions are looked for again
//!    by contrast: sub-components of the organ with SUV ≥ [`ORGAN_CONTRAST`] × the
//!    organ's median SUV. With a 6 mm FWHM scanner this separates lesions of ≥ 10 mm
//!    whose uptake is at least about twice the organ's; fainter or smaller ones stay
//!    hidden in the organ. Kidneys and bladder are not searched (their uptake is too
//!    uneven: cortex against medulla, urine level), so lesions touching them are not
//!    separated: the reader must look there.
//! 4. Metrics per candidate ([`metrics`]); candidates whose metabolic volume is below
//!    `min_volume_ml` are dropped.
//!
//! Output order: non-physiological candidates first, by SUVmax descending, then
//! physiological ones by SUVmax descending; ties by the linear index of the hottest
//! voxel. Ids count from 1 in that order. Same volume and parameters → same result,
//! bit for bit, whatever the thread count.

pub mod components;
pub mod metrics;

use crate::peak::SphereKernel;
pub use crate::physiology::Organ;
use crate::physiology::{BodyOutline, BodySlice, body_slice, classify};
use crate::volume::Volume;
use components::{Component, Run, group_runs, index_runs, slice_runs, sub_components};
use rayon::prelude::*;
use serde::Serialize;

/// Factor over an organ's median SUV above which a region inside the liver or spleen is a
/// lesion candidate.
pub const ORGAN_CONTRAST: f32 = 1.5;

/// Settings of lesion detection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LesionParams {
    /// Candidate threshold (SUV); default 3.0.
    pub threshold_suv: f32,
    /// Smallest metabolic volume kept (mL); default 0.5.
    pub min_volume_ml: f64,
    /// Fraction of SUVmax defining the metabolic volume; default 0.41.
    pub mtv_fraction: f32,
    /// SUVmax at or above which a lesion is HER2-avid (PROTOCOL.md §6); default 6.0.
    pub avid_suvmax: f32,
}

impl Default for LesionParams {
    fn default() -> Self {
        Self {
            threshold_suv: 3.0,
            min_volume_ml: 0.5,
            mtv_fraction: 0.41,
            avid_suvmax: 6.0,
        }
    }
}

/// One candidate lesion (or physiological uptake) with its metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesion {
    /// Number from 1, in output order.
    pub id: u32,
    /// Highest voxel SUV.
    pub suv_max: f64,
    /// Mean SUV of the best 1 cm³ sphere (see [`crate::peak`]).
    pub suv_peak: f64,
    /// Mean SUV over the metabolic volume.
    pub suv_mean: f64,
    /// Metabolic volume (mL): voxels ≥ `mtv_fraction` × SUVmax.
    pub mtv_ml: f64,
    /// Total lesion uptake: SUVmean × MTV (mL).
    pub tlu: f64,
    /// Unweighted centroid of the metabolic volume in patient coordinates (mm).
    pub centroid_mm: [f64; 3],
    /// Voxel (column, row, slice) holding SUVmax.
    pub max_voxel: [usize; 3],
    /// Number of voxels in the metabolic volume.
    pub voxels: usize,
    /// SUVmax ≥ `avid_suvmax`, and not physiological.
    pub her2_avid: bool,
    /// Likely physiological uptake, to be confirmed by a reader.
    pub physiological: Option<Organ>,
}

/// One candidate before metrics: its voxels, its organ label, whether its MTV may grow.
struct Candidate {
    comp: Component,
    organ: Option<Organ>,
    grow: bool,
}

/// Finds and measures candidate lesions in an SUV volume.
///
/// Returns an empty list for a volume whose data length does not match its dimensions
/// or with non-finite parameters.
pub fn detect(suv: &Volume, params: &LesionParams) -> Vec<Lesion> {
    let dims = suv.dims;
    let valid = suv.data.len() == dims.iter().product::<usize>()
        && params.threshold_suv.is_finite()
        && params.mtv_fraction.is_finite()
        && params.min_volume_ml.is_finite()
        && suv.spacing_mm.iter().all(|s| s.is_finite() && *s > 0.0);
    if !valid || suv.data.is_empty() {
        return Vec::new();
    }
    let (comps, body) = scan(suv, params.threshold_suv);
    let summaries: Vec<_> = comps
        .par_iter()
        .map(|c| metrics::summarise(suv, c))
        .collect();
    let organs = classify(&summaries, &body);

    let mut candidates = Vec::new();
    for (comp, organ) in comps.into_iter().zip(organs) {
        if matches!(organ, Some(Organ::Liver | Organ::Spleen)) {
            candidates.extend(lesions_in_organ(suv, &comp, params).into_iter().map(|c| {
                Candidate {
                    comp: c,
                    organ: None,
                    grow: false,
                }
            }));
        }
        candidates.push(Candidate {
            comp,
            organ,
            grow: organ.is_none(),
        });
    }

    let kernel = SphereKernel::peak(suv.spacing_mm);
    let measured: Vec<Option<(metrics::Metrics, Option<Organ>)>> = candidates
        .par_iter()
        .map(|c| {
            let m = metrics::measure(suv, &c.comp, params.mtv_fraction, c.grow, &kernel)?;
            (m.mtv_ml >= params.min_volume_ml).then_some((m, c.organ))
        })
        .collect();
    let mut lesions: Vec<Lesion> = measured
        .into_iter()
        .flatten()
        .map(|(m, organ)| Lesion {
            id: 0,
            suv_max: m.suv_max,
            suv_peak: m.suv_peak,
            suv_mean: m.suv_mean,
            mtv_ml: m.mtv_ml,
            tlu: m.tlu,
            centroid_mm: m.centroid_mm,
            max_voxel: m.max_voxel,
            voxels: m.voxels,
            her2_avid: organ.is_none() && m.suv_max >= f64::from(params.avid_suvmax),
            physiological: organ,
        })
        .collect();
    lesions.sort_by(|a, b| {
        let ia = suv.index(a.max_voxel[0], a.max_voxel[1], a.max_voxel[2]);
        let ib = suv.index(b.max_voxel[0], b.max_voxel[1], b.max_voxel[2]);
        a.physiological
            .is_some()
            .cmp(&b.physiological.is_some())
            .then(b.suv_max.total_cmp(&a.suv_max))
            .then(ia.cmp(&ib))
    });
    for (n, lesion) in lesions.iter_mut().enumerate() {
        lesion.id = n as u32 + 1;
    }
    lesions
}

/// The components at `threshold` (as [`components::components_above`]) and the body
/// outline (as [`BodyOutline::measure`]), both taken in one pass over the volume: each
/// slice is scanned for both while it is in cache.
fn scan(suv: &Volume, threshold: f32) -> (Vec<Component>, BodyOutline) {
    let [nx, ny, nz] = suv.dims;
    let keep = |v: f32| v >= threshold;
    let (runs, body): (Vec<Vec<Run>>, Vec<Option<BodySlice>>) = (0..nz)
        .into_par_iter()
        .map(|k| {
            let plane = &suv.data[k * nx * ny..(k + 1) * nx * ny];
            (slice_runs(plane, k, [nx, ny], &keep), body_slice(suv, k))
        })
        .unzip();
    let (runs, row_start) = index_runs(runs, suv.dims);
    (
        group_runs(runs, &row_start, suv.dims),
        BodyOutline::from_slices(body),
    )
}

/// Hot spots inside an organ component: sub-components at [`ORGAN_CONTRAST`] × the
/// organ's median SUV (never below the candidate threshold).
fn lesions_in_organ(suv: &Volume, organ: &Component, params: &LesionParams) -> Vec<Component> {
    let mut values: Vec<f32> = organ.indices(suv.dims).map(|i| suv.data[i]).collect();
    if values.is_empty() {
        return Vec::new();
    }
    let mid = values.len() / 2;
    let (_, median, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    let level = (*median * ORGAN_CONTRAST).max(params.threshold_suv);
    sub_components(&suv.data, suv.dims, organ, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4 mm grid with a uniform background and hot cubes.
    fn volume_with(cubes: &[([usize; 3], usize, f32)]) -> Volume {
        let dims = [40, 40, 40];
        let mut v = Volume {
            dims,
            spacing_mm: [4.0; 3],
            origin_mm: [-80.0, -80.0, -80.0],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![0.8; dims.iter().product()],
        };
        for &([i0, j0, k0], side, value) in cubes {
            for k in k0..k0 + side {
                for j in j0..j0 + side {
                    for i in i0..i0 + side {
                        let idx = v.index(i, j, k);
                        v.data[idx] = value;
                    }
                }
            }
        }
        v
    }

    #[test]
    fn two_cubes_give_two_lesions_with_exact_metrics() {
        // A 3-voxel cube of SUV 10 (27 voxels, 1.728 mL) and a 2-voxel cube of SUV 5.
        let v = volume_with(&[([5, 5, 5], 3, 10.0), ([30, 30, 30], 2, 5.0)]);
        let found = detect(&v, &LesionParams::default());
        assert_eq!(found.len(), 2);
        let a = &found[0];
        assert_eq!((a.id, a.suv_max, a.voxels), (1, 10.0, 27));
        assert!((a.mtv_ml - 1.728).abs() < 1e-9);
        assert!((a.tlu - 17.28).abs() < 1e-9);
        assert_eq!(a.centroid_mm, [-56.0, -56.0, -56.0]);
        assert!(a.her2_avid);
        assert!(a.physiological.is_none());
        // 8 voxels = 0.512 mL ≥ 0.5 mL; SUV 5 is not avid.
        let b = &found[1];
        assert_eq!((b.voxels, b.her2_avid), (8, false));
        assert!(b.suv_peak < 5.0 && b.suv_peak > 0.8);
    }

    #[test]
    fn small_candidate_is_dropped_and_thresholds_are_configurable() {
        let v = volume_with(&[([5, 5, 5], 1, 7.0)]);
        assert!(detect(&v, &LesionParams::default()).is_empty());
        let p = LesionParams {
            min_volume_ml: 0.05,
            avid_suvmax: 8.0,
            ..LesionParams::default()
        };
        let found = detect(&v, &p);
        assert_eq!(found.len(), 1);
        assert!(!found[0].her2_avid);
    }

    /// Adds a Gaussian blob of peak `height` above the current values.
    fn add_blob(v: &mut Volume, centre: [usize; 3], sigma_vox: f64, height: f32) {
        for k in 0..v.dims[2] {
            for j in 0..v.dims[1] {
                for i in 0..v.dims[0] {
                    let d2 = [i, j, k]
                        .iter()
                        .zip(centre)
                        .map(|(&a, c)| (a as f64 - c as f64).powi(2))
                        .sum::<f64>();
                    let idx = v.index(i, j, k);
                    v.data[idx] += height * (-d2 / (2.0 * sigma_vox * sigma_vox)).exp() as f32;
                }
            }
        }
    }

    #[test]
    fn faint_lesion_is_measured_at_its_own_contour() {
        // Peak SUV 4.0 over 0.8: only a few voxels reach 3.0 (< 0.5 mL), but the 41 %
        // contour (1.64) closes around the blob and holds more than 0.5 mL.
        let mut v = volume_with(&[]);
        add_blob(&mut v, [20, 20, 20], 1.2, 3.2);
        let core = v.data.iter().filter(|&&x| x >= 3.0).count();
        assert!((core as f64) * 0.064 < 0.5, "{core} core voxels");
        let found = detect(&v, &LesionParams::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].mtv_ml >= 0.5 && found[0].voxels > core);
        assert_eq!(found[0].max_voxel, [20, 20, 20]);
    }

    #[test]
    fn spike_in_warm_surroundings_does_not_grow_into_them() {
        // Blood-pool-like plateau at SUV 2.0 with a narrow peak reaching 3.5: 41 % of 3.5
        // is below the plateau, the region would leak, so the candidate stays tiny.
        let mut v = volume_with(&[([10, 10, 10], 20, 2.0)]);
        add_blob(&mut v, [20, 20, 20], 0.6, 1.5);
        assert!(detect(&v, &LesionParams::default()).is_empty());
    }

    #[test]
    fn bad_input_gives_no_candidates() {
        let mut v = volume_with(&[([5, 5, 5], 3, 10.0)]);
        v.data.pop();
        assert!(detect(&v, &LesionParams::default()).is_empty());
        let v = volume_with(&[([5, 5, 5], 3, 10.0)]);
        let p = LesionParams {
            threshold_suv: f32::NAN,
            ..LesionParams::default()
        };
        assert!(detect(&v, &p).is_empty());
    }
}
