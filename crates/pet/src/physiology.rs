//! Likely physiological uptake of [68Ga]Ga-ABY-025, recognised without organ segmentation.
//!
//! The tracer is cleared through the kidneys: kidney cortex reaches SUV 100 or more,
//! liver and spleen take it up strongly and urine collects in the bladder (PROTOCOL.md
//! §6; Sandström et al., J Nucl Med 2016;57:867; Sörensen et al., Theranostics
//! 2016;6:262). Supra-threshold components that look like one of these organs are
//! flagged so that they are shown to the reader but never proposed as lesions or biopsy
//! targets.
//!
//! The heuristic uses only each component's size, uptake and position relative to the
//! body outline (patient LPS axes: +x left, +y posterior, +z superior):
//!
//! | organ   | size            | uptake               | position                                       |
//! |---------|-----------------|----------------------|------------------------------------------------|
//! | kidney  | 40–800 mL       | SUVmax ≥ 40          | posterior half, 20–150 mm off the midline; at most one per side |
//! | liver   | ≥ 400 mL        | SUVmean ≥ 4          | centroid right of the midline; the largest      |
//! | spleen  | 40–1500 mL      | SUVmean ≥ 3.5        | ≥ 30 mm left, not anterior, within 150 mm of the liver's height |
//! | bladder | ≥ 30 mL         | SUVmax ≥ 10          | ≤ 60 mm off the midline, below the kidneys and the liver (or in the lower half of the body) |
//!
//! Limits: a lesion of 30 mL or more with bladder-, spleen- or kidney-like uptake at such
//! a position would be taken for the organ; an organ cut by the field of view, absent
//! (nephrectomy, splenectomy) or displaced may be missed or mislabelled. A lesion that
//! touches an organ's high uptake merges into the organ's component at the candidate
//! threshold; inside the liver and spleen such lesions are searched for again by
//! contrast (see `lesions`), elsewhere the reader has to find them.

use crate::volume::Volume;
use rayon::prelude::*;
use serde::Serialize;

/// An organ whose uptake of the tracer is physiological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Organ {
    /// Kidney (renal clearance; cortex SUV often above 100).
    Kidney,
    /// Liver.
    Liver,
    /// Spleen.
    Spleen,
    /// Urinary bladder (urine activity).
    Bladder,
}

/// SUV above which a voxel is taken to be inside the body (soft tissue is ~0.5–1, air 0).
pub const BODY_SUV: f32 = 0.3;

/// Body outline measured in one slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodySlice {
    /// Mean position of the body voxels in the slice (mm).
    pub centre_mm: [f64; 3],
    /// Most anterior and most posterior patient y of the body in the slice (mm).
    pub y_range_mm: [f64; 2],
}

/// The body outline, slice by slice.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyOutline {
    /// One entry per slice; `None` where no voxel reaches [`BODY_SUV`].
    pub slices: Vec<Option<BodySlice>>,
    /// Lowest and highest patient z of any body slice (mm).
    pub z_range_mm: Option<[f64; 2]>,
}

impl BodyOutline {
    /// Measures the outline of `suv` (one pass, slices in parallel).
    pub fn measure(suv: &Volume) -> Self {
        let slices: Vec<Option<BodySlice>> = (0..suv.dims[2])
            .into_par_iter()
            .map(|k| body_slice(suv, k))
            .collect();
        Self::from_slices(slices)
    }

    /// The outline made of per-slice measurements ([`body_slice`] of every slice).
    pub fn from_slices(slices: Vec<Option<BodySlice>>) -> Self {
        let zs: Vec<f64> = slices.iter().flatten().map(|s| s.centre_mm[2]).collect();
        let z_range_mm = (!zs.is_empty()).then(|| {
            [
                zs.iter().copied().fold(f64::INFINITY, f64::min),
                zs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ]
        });
        Self { slices, z_range_mm }
    }

    /// The body slice nearest to slice index `k` that holds body voxels.
    fn near(&self, k: usize) -> Option<&BodySlice> {
        let n = self.slices.len();
        (0..n).find_map(|d| {
            let below = k
                .checked_sub(d)
                .and_then(|a| self.slices.get(a))
                .and_then(Option::as_ref);
            below.or_else(|| self.slices.get(k + d).and_then(Option::as_ref))
        })
    }
}

/// The body outline in slice `k` of `suv`; `None` when no voxel reaches [`BODY_SUV`].
pub fn body_slice(suv: &Volume, k: usize) -> Option<BodySlice> {
    let [nx, ny, _] = suv.dims;
    let (mut n, mut si, mut sj) = (0u64, 0u64, 0u64);
    let (mut jmin, mut jmax) = (usize::MAX, 0usize);
    let plane = &suv.data[k * nx * ny..(k + 1) * nx * ny];
    for j in 0..ny {
        // Branch-free 32-bit sums so the compiler can vectorise the row (DICOM rows hold
        // at most 65535 columns: the index sum stays below 2^32).
        let (mut row_n, mut row_i) = (0u32, 0u32);
        for (i, &v) in plane[j * nx..(j + 1) * nx].iter().enumerate() {
            let inside = v >= BODY_SUV;
            row_n += u32::from(inside);
            row_i += if inside { i as u32 } else { 0 };
        }
        let row_n = u64::from(row_n);
        si += u64::from(row_i);
        if row_n > 0 {
            n += row_n;
            sj += row_n * j as u64;
            jmin = jmin.min(j);
            jmax = jmax.max(j);
        }
    }
    if n == 0 {
        return None;
    }
    let (ci, cj) = (si as f64 / n as f64, sj as f64 / n as f64);
    let kf = k as f64;
    let ya = suv.position_mm(ci, jmin as f64, kf)[1];
    let yb = suv.position_mm(ci, jmax as f64, kf)[1];
    Some(BodySlice {
        centre_mm: suv.position_mm(ci, cj, kf),
        y_range_mm: [ya.min(yb), ya.max(yb)],
    })
}

/// What the heuristic needs to know about one supra-threshold component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentSummary {
    /// Volume of the component (mL).
    pub volume_ml: f64,
    /// Highest SUV.
    pub suv_max: f64,
    /// Mean SUV over the component.
    pub suv_mean: f64,
    /// Mean position of the component's voxels (mm).
    pub centroid_mm: [f64; 3],
    /// Slice index of the centroid (rounded).
    pub centroid_slice: usize,
    /// Lowest and highest patient z of the component (mm).
    pub z_range_mm: [f64; 2],
}

/// Position of a component relative to the body.
struct Placed<'a> {
    s: &'a ComponentSummary,
    /// Signed distance from the body midline, positive towards the patient's left (mm).
    lateral_mm: f64,
    /// 0 at the body's anterior surface, 1 at its posterior surface.
    ap_fraction: f64,
}

/// Labels each component with the organ it most likely is, following the table in the
/// module documentation. The result is indexed like `components`.
pub fn classify(components: &[ComponentSummary], body: &BodyOutline) -> Vec<Option<Organ>> {
    let placed = place(components, body);
    let mut labels = vec![None; components.len()];
    let largest = |labels: &[Option<Organ>], rule: &dyn Fn(&Placed) -> bool| {
        largest_unlabelled(&placed, labels, rule)
    };

    // Kidneys: the largest candidate on each side.
    let kidney = |p: &Placed| {
        (40.0..=800.0).contains(&p.s.volume_ml)
            && p.s.suv_max >= 40.0
            && p.ap_fraction >= 0.45
            && (20.0..=150.0).contains(&p.lateral_mm.abs())
    };
    for side in [-1.0f64, 1.0] {
        if let Some(i) = largest(&labels, &|p: &Placed| {
            kidney(p) && p.lateral_mm * side > 0.0
        }) {
            labels[i] = Some(Organ::Kidney);
        }
    }

    let liver_rule =
        |p: &Placed| p.s.volume_ml >= 400.0 && p.s.suv_mean >= 4.0 && p.lateral_mm < 0.0;
    let liver = largest(&labels, &liver_rule);
    if let Some(i) = liver {
        labels[i] = Some(Organ::Liver);
    }
    let liver_z = liver.map(|i| components[i].centroid_mm[2]);
    let spleen_rule = |p: &Placed| {
        (40.0..=1500.0).contains(&p.s.volume_ml)
            && p.s.suv_mean >= 3.5
            && p.lateral_mm >= 30.0
            && p.ap_fraction >= 0.3
            && liver_z.is_none_or(|z| (p.s.centroid_mm[2] - z).abs() <= 150.0)
    };
    if let Some(i) = largest(&labels, &spleen_rule) {
        labels[i] = Some(Organ::Spleen);
    }

    // The bladder lies below the kidneys and the liver; without either, in the lower
    // half of the body.
    let kidney_z: Vec<f64> = (0..components.len())
        .filter(|&i| labels[i] == Some(Organ::Kidney))
        .map(|i| components[i].centroid_mm[2])
        .collect();
    let liver_bottom = liver.map(|i| components[i].z_range_mm[0]);
    let body_mid = body.z_range_mm.map(|[lo, hi]| (lo + hi) / 2.0);
    let bladder_rule = |p: &Placed| {
        let z = p.s.centroid_mm[2];
        let below_refs =
            kidney_z.iter().all(|&kz| z <= kz - 60.0) && liver_bottom.is_none_or(|lb| z < lb);
        let placed_low = if kidney_z.is_empty() && liver_bottom.is_none() {
            body_mid.is_some_and(|m| z < m)
        } else {
            below_refs
        };
        p.s.volume_ml >= 30.0 && p.s.suv_max >= 10.0 && p.lateral_mm.abs() <= 60.0 && placed_low
    };
    if let Some(i) = largest(&labels, &bladder_rule) {
        labels[i] = Some(Organ::Bladder);
    }
    labels
}

/// Each component's position relative to the body slice nearest its centroid.
fn place<'a>(components: &'a [ComponentSummary], body: &BodyOutline) -> Vec<Option<Placed<'a>>> {
    components
        .iter()
        .map(|s| {
            let slice = body.near(s.centroid_slice)?;
            let depth = slice.y_range_mm[1] - slice.y_range_mm[0];
            Some(Placed {
                s,
                lateral_mm: s.centroid_mm[0] - slice.centre_mm[0],
                ap_fraction: if depth > 0.0 {
                    (s.centroid_mm[1] - slice.y_range_mm[0]) / depth
                } else {
                    0.5
                },
            })
        })
        .collect()
}

/// Index of the largest still unlabelled component meeting `rule` (ties: the first).
fn largest_unlabelled(
    placed: &[Option<Placed>],
    labels: &[Option<Organ>],
    rule: &dyn Fn(&Placed) -> bool,
) -> Option<usize> {
    placed
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.as_ref()
                .filter(|p| labels[i].is_none() && rule(p))
                .map(|p| (i, p))
        })
        .max_by(|a, b| {
            a.1.s
                .volume_ml
                .total_cmp(&b.1.s.volume_ml)
                .then(b.0.cmp(&a.0))
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(volume_ml: f64, suv_max: f64, suv_mean: f64, c: [f64; 3]) -> ComponentSummary {
        ComponentSummary {
            volume_ml,
            suv_max,
            suv_mean,
            centroid_mm: c,
            centroid_slice: 0,
            z_range_mm: [c[2] - 40.0, c[2] + 40.0],
        }
    }

    fn body() -> BodyOutline {
        let slice = BodySlice {
            centre_mm: [0.0, 0.0, 0.0],
            y_range_mm: [-100.0, 100.0],
        };
        BodyOutline {
            slices: vec![Some(slice)],
            z_range_mm: Some([-500.0, 500.0]),
        }
    }

    #[test]
    fn typical_abdomen_is_labelled_organ_by_organ() {
        let comps = [
            summary(1800.0, 25.0, 15.0, [-70.0, -10.0, 20.0]), // liver
            summary(180.0, 130.0, 70.0, [-65.0, 60.0, -100.0]), // right kidney
            summary(180.0, 125.0, 70.0, [65.0, 60.0, -90.0]),  // left kidney
            summary(150.0, 13.0, 10.0, [105.0, 35.0, 40.0]),   // spleen
            summary(250.0, 70.0, 55.0, [0.0, -35.0, -230.0]),  // bladder
            summary(8.0, 15.0, 9.0, [-5.0, -10.0, 200.0]),     // mediastinal node
        ];
        let labels = classify(&comps, &body());
        use Organ::*;
        assert_eq!(
            labels,
            vec![
                Some(Liver),
                Some(Kidney),
                Some(Kidney),
                Some(Spleen),
                Some(Bladder),
                None
            ]
        );
    }

    #[test]
    fn hot_midline_pelvic_lesion_is_not_a_bladder_when_small() {
        let comps = [summary(12.0, 20.0, 11.0, [0.0, 40.0, -250.0])];
        assert_eq!(classify(&comps, &body()), vec![None]);
    }

    #[test]
    fn anterior_hot_mass_is_not_a_kidney() {
        let comps = [summary(100.0, 60.0, 30.0, [60.0, -60.0, 100.0])];
        assert_eq!(classify(&comps, &body()), vec![None]);
    }
}
