//! Helpers for the lesion tests: reading the phantom's files back without `pet::series`.

use dicom_dictionary_std::tags;
use pet::phantom::GroundTruth;
use pet::volume::Volume;
use std::path::Path;

/// Reads the phantom's DICOM files back (Bq/mL through the per-slice RescaleSlope) and
/// converts them to SUV with the ground truth's factor.
pub fn read_phantom_suv(dir: &Path, truth: &GroundTruth) -> Volume {
    let [nx, ny, nz] = truth.spec.dims;
    let mut slices: Vec<(f64, Vec<f32>)> = truth
        .files
        .iter()
        .map(|name| {
            let obj = dicom_object::open_file(dir.join(name)).expect("phantom file opens");
            let num = |tag| obj.element(tag).unwrap().to_multi_float64().unwrap();
            let z = num(tags::IMAGE_POSITION_PATIENT)[2];
            let slope = num(tags::RESCALE_SLOPE)[0];
            let bytes = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
            assert_eq!(bytes.len(), nx * ny * 2);
            let values = bytes
                .chunks_exact(2)
                .map(|b| {
                    (f64::from(u16::from_le_bytes([b[0], b[1]])) * slope * truth.suv_per_bqml)
                        as f32
                })
                .collect();
            (z, values)
        })
        .collect();
    slices.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(slices.len(), nz);
    Volume {
        dims: truth.spec.dims,
        spacing_mm: truth.spec.spacing_mm,
        origin_mm: truth.origin_mm,
        direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        data: slices.into_iter().flat_map(|(_, v)| v).collect(),
    }
}

/// How detection fared against the ground truth of one phantom.
#[derive(Debug, Default)]
pub struct Score {
    /// Lesions that must be found (see [`must_find`]).
    pub eligible: usize,
    /// Of those, found.
    pub found: usize,
    /// Non-physiological candidates matching no simulated lesion.
    pub false_positives: usize,
    /// Simulated lesions that were labelled physiological.
    pub lesions_called_physiological: usize,
    /// Lines describing misses and false positives, for failure messages.
    pub notes: Vec<String>,
}

/// Centroid distance (mm) within which a candidate matches a simulated lesion.
pub const MATCH_MM: f64 = 8.0;

/// A lesion the detector must find with default settings: at least 10 mm, a true SUVmax
/// of at least 3, and, inside an organ's uptake, at least twice that uptake (the contrast
/// the in-organ search needs; see `pet::lesions`).
pub fn must_find(l: &pet::phantom::TrueLesion) -> bool {
    l.diameter_mm >= 10.0 && l.true_suv_max >= 3.0 && l.true_suv_max >= 2.0 * l.background_suv
}

/// Whether a candidate's centroid matches a simulated lesion centre.
pub fn near(centroid: [f64; 3], centre: [f64; 3]) -> bool {
    distance(centroid, centre) <= MATCH_MM
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

/// Compares candidates with the ground truth.
pub fn score(truth: &GroundTruth, found: &[pet::lesions::Lesion]) -> Score {
    let mut s = Score::default();
    let near = |c: [f64; 3], l: &pet::phantom::TrueLesion| near(c, l.centre_mm);
    for l in &truth.lesions {
        let hits: Vec<_> = found.iter().filter(|f| near(f.centroid_mm, l)).collect();
        if hits.iter().any(|f| f.physiological.is_some()) {
            s.lesions_called_physiological += 1;
        }
        if must_find(l) {
            s.eligible += 1;
            if hits.iter().any(|f| f.physiological.is_none()) {
                s.found += 1;
            } else {
                s.notes
                    .push(format!("seed {}: missed {l:?}", truth.spec.seed));
            }
        }
    }
    for f in found.iter().filter(|f| f.physiological.is_none()) {
        if !truth.lesions.iter().any(|l| near(f.centroid_mm, l)) {
            s.false_positives += 1;
            s.notes
                .push(format!("seed {}: false positive {f:?}", truth.spec.seed));
        }
    }
    s
}

/// Distance from a point to the centre of the nearest simulated organ with that label.
pub fn distance_to_organ(truth: &GroundTruth, organ: pet::lesions::Organ, at: [f64; 3]) -> f64 {
    truth
        .organs
        .iter()
        .filter(|o| o.physiological == Some(organ))
        .filter_map(|o| match o.solid {
            pet::phantom::anatomy::Solid::Ellipsoid { centre_mm, .. } => {
                Some(distance(centre_mm, at))
            }
            pet::phantom::anatomy::Solid::Cylinder { .. } => None,
        })
        .fold(f64::INFINITY, f64::min)
}
