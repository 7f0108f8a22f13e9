//! Stacking images (single-frame files, or the frames of enhanced files) into a regular
//! grid, by position along the slice normal.

use rayon::prelude::*;

use super::instance::{PendingInstance, PetInstance, PixelSource};
use crate::error::{ErrorKind, PetError};
use crate::voi::{block_min_max, combine_ranges};
use crate::volume::Volume;

/// Relative tolerance on slice gaps: a gap differing by more than this from the median gap is
/// a missing or extra slice. 1 % is far above rounding in ImagePositionPatient (DS, 16 chars).
const GAP_TOLERANCE: f64 = 0.01;
/// Tolerance (mm) for in-plane drift between slices and for orientation agreement.
const POSITION_TOLERANCE_MM: f64 = 0.01;

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A stacked series: volume, sorted images (without pixels), warnings and, when scaled,
/// the range of the finite values.
type Stacked = (Volume, Vec<PetInstance>, Vec<String>, Option<(f64, f64)>);

/// Sorts the images along the slice normal, checks that they form a regular grid, and
/// places their pixels into one volume, slices in parallel, each slice multiplied by its
/// factor when `factors` (given the sorted images) returns one per image.
pub fn stack(
    pending: Vec<PendingInstance>,
    factors: impl FnOnce(&[PetInstance]) -> Option<Vec<f64>>,
) -> Result<Stacked, PetError> {
    let (instances, sources, direction, spacing_mm, warnings) =
        arrange(pending).map_err(PetError::new)?;
    let [row, col, normal] = direction;
    let (rows, columns) = (instances[0].rows, instances[0].columns);
    let per_slice = rows * columns;
    let factors = factors(&instances).filter(|f| f.len() == instances.len());
    let mut data = vec![0.0f32; per_slice * instances.len()];
    let ranges: Vec<Option<(f32, f32)>> = data
        .par_chunks_mut(per_slice)
        .zip(sources.into_par_iter().zip(instances.par_iter()))
        .enumerate()
        .map_init(Vec::new, |buf, (k, (slice, (source, inst)))| {
            source
                .fill(&inst.path, buf, slice)
                .map_err(|kind| PetError::at(&inst.path, kind))?;
            Ok(factors.as_ref().and_then(|f| scale_slice(slice, f[k])))
        })
        .collect::<Result<_, PetError>>()?;
    let range = factors.as_ref().and_then(|_| combine_ranges(ranges));
    let volume = Volume {
        dims: [columns, rows, instances.len()],
        spacing_mm,
        origin_mm: instances[0].position_mm,
        direction: [row, col, normal],
        data,
    };
    Ok((volume, instances, warnings, range))
}

/// Multiplies a slice by `factor` (`(value as f64 × factor) as f32`, as
/// [`crate::suv::scale_to_suv`] does) and returns the range of its finite values.
fn scale_slice(slice: &mut [f32], factor: f64) -> Option<(f32, f32)> {
    for v in slice.iter_mut() {
        *v = (f64::from(*v) * factor) as f32;
    }
    block_min_max(slice)
}

/// Sorted images, their pixel sources, grid directions, spacing and warnings.
type Arranged = (
    Vec<PetInstance>,
    Vec<PixelSource>,
    [[f64; 3]; 3],
    [f64; 3],
    Vec<String>,
);

/// Sorts the images along the slice normal and checks that they form a regular grid.
fn arrange(mut pending: Vec<PendingInstance>) -> Result<Arranged, ErrorKind> {
    let mut warnings = Vec::new();
    let first = &pending
        .first()
        .ok_or_else(|| ErrorKind::NoImages("empty series".into()))?
        .inst;
    let o = first.orientation;
    let (row, col) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let normal = cross(row, col);
    let (rows, columns, spacing) = (first.rows, first.columns, first.pixel_spacing_mm);
    for inst in pending.iter().map(|p| &p.inst) {
        let same_orientation = inst
            .orientation
            .iter()
            .zip(o.iter())
            .all(|(a, b)| (a - b).abs() < 1e-4);
        if !same_orientation {
            return Err(ErrorKind::Geometry(format!(
                "{}: ImageOrientationPatient (0020,0037) {:?} differs from {:?}",
                inst.location(),
                inst.orientation,
                o
            )));
        }
        if (inst.rows, inst.columns) != (rows, columns) {
            return Err(ErrorKind::Geometry(format!(
                "{}: Rows × Columns {} × {} differs from {rows} × {columns}",
                inst.location(),
                inst.rows,
                inst.columns
            )));
        }
        if inst
            .pixel_spacing_mm
            .iter()
            .zip(spacing.iter())
            .any(|(a, b)| (a - b).abs() > 1e-4 * b.abs().max(1.0))
        {
            return Err(ErrorKind::Geometry(format!(
                "{}: PixelSpacing (0028,0030) {:?} differs from {spacing:?}",
                inst.location(),
                inst.pixel_spacing_mm
            )));
        }
    }
    // Sort by distance along the normal; the file path and frame break exact ties so that
    // the duplicate check below reports a stable pair.
    pending.sort_by(|a, b| {
        dot(a.inst.position_mm, normal)
            .total_cmp(&dot(b.inst.position_mm, normal))
            .then_with(|| a.inst.path.cmp(&b.inst.path))
            .then_with(|| a.inst.frame.cmp(&b.inst.frame))
    });
    let (instances, sources): (Vec<PetInstance>, Vec<PixelSource>) =
        pending.into_iter().map(|p| (p.inst, p.source)).unzip();
    let distances: Vec<f64> = instances
        .iter()
        .map(|i| dot(i.position_mm, normal))
        .collect();
    let slice_gap = check_gaps(&instances, &distances)?;
    // Every position must lie on the line through the first along the normal.
    let origin = instances[0].position_mm;
    for (inst, d) in instances.iter().zip(&distances) {
        let expected: [f64; 3] =
            std::array::from_fn(|c| origin[c] + (d - distances[0]) * normal[c]);
        let drift = (0..3)
            .map(|c| (inst.position_mm[c] - expected[c]).powi(2))
            .sum::<f64>()
            .sqrt();
        if drift > POSITION_TOLERANCE_MM.max(0.01 * slice_gap.unwrap_or(0.0)) {
            return Err(ErrorKind::Geometry(format!(
                "{}: ImagePositionPatient (0020,0032) {:?} is {drift:.3} mm off the stack axis \
                 (gantry tilt or mixed bed positions are not supported)",
                inst.location(),
                inst.position_mm
            )));
        }
    }
    let slice_spacing = match slice_gap {
        Some(g) => g,
        None => {
            let t = instances[0].slice_thickness_mm.filter(|t| *t > 0.0);
            warnings.push(format!(
                "single-slice series: slice spacing taken from SliceThickness (0018,0050) = {}",
                t.map_or("absent, 1 mm assumed".to_string(), |t| format!("{t} mm"))
            ));
            t.unwrap_or(1.0)
        }
    };
    // PixelSpacing lists the spacing between rows first (PS3.3 C.7.6.2.1.1).
    let spacing_mm = [spacing[1], spacing[0], slice_spacing];
    Ok((instances, sources, [row, col, normal], spacing_mm, warnings))
}

/// Checks that consecutive slices are evenly spaced; returns the mean gap (None for one slice).
fn check_gaps(instances: &[PetInstance], distances: &[f64]) -> Result<Option<f64>, ErrorKind> {
    if distances.len() < 2 {
        return Ok(None);
    }
    let gaps: Vec<f64> = distances.windows(2).map(|w| w[1] - w[0]).collect();
    for (k, gap) in gaps.iter().enumerate() {
        if *gap < POSITION_TOLERANCE_MM {
            return Err(ErrorKind::Geometry(format!(
                "{} and {} are at the same position along the slice normal ({:.3} mm): \
                 duplicate slice",
                instances[k].location(),
                instances[k + 1].location(),
                distances[k]
            )));
        }
    }
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    for (k, gap) in gaps.iter().enumerate() {
        if (gap - median).abs() > GAP_TOLERANCE * median {
            let missing = (gap / median).round() - 1.0;
            let hint = if missing >= 1.0 {
                format!(" (about {missing} slice(s) missing)")
            } else {
                String::new()
            };
            return Err(ErrorKind::Geometry(format!(
                "uneven slice spacing: {:.3} mm between {} and {}, {median:.3} mm elsewhere{hint}; \
                 the series is not interpolated",
                gap,
                instances[k].location(),
                instances[k + 1].location()
            )));
        }
    }
    Ok(Some(
        (distances[distances.len() - 1] - distances[0]) / gaps.len() as f64,
    ))
}
