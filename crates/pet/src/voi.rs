//! Statistics of a volume of interest (a mask on the SUV grid).
//!
//! - min, max, mean over the voxels of the VOI; the median is the middle value of the
//!   sorted voxel values (the mean of the two middle values for an even count);
//! - SUVpeak: the 1 cm³ sphere, centred on a voxel centre inside the VOI, with the highest
//!   mean SUV ([`crate::peak`], PERCIST 1.0); the sphere may reach beyond the VOI;
//! - volume: voxel count × voxel volume.
//!
//! Sums are taken in f64 in voxel order, so the same volume and mask give the same bits.

use rayon::prelude::*;
use serde::Serialize;

use crate::error::ErrorKind;
use crate::peak::suv_peak;
use crate::volume::Volume;

/// Statistics of a VOI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VoiStats {
    /// Lowest voxel value.
    pub suv_min: f64,
    /// Median voxel value.
    pub suv_median: f64,
    /// Highest voxel value.
    pub suv_max: f64,
    /// Mean voxel value.
    pub suv_mean: f64,
    /// Mean of the best 1 cm³ sphere (`None` if no sphere fits).
    pub suv_peak: Option<f64>,
    /// VOI volume in mL.
    pub volume_ml: f64,
    /// Number of voxels.
    pub voxels: usize,
}

/// Voxels per block of [`min_max`]: a fixed split, so the result does not depend on the
/// thread count.
const MIN_MAX_BLOCK: usize = 1 << 16;
/// Independent running minima and maxima per block, so the loop vectorises.
const LANES: usize = 16;

/// Minimum and maximum of a whole volume (non-finite voxels ignored); blocks in
/// parallel, their results combined in order. Minima and maxima are exact, so the
/// values are those of a plain sequential scan.
pub fn min_max(volume: &Volume) -> Option<(f64, f64)> {
    let blocks: Vec<Option<(f32, f32)>> = volume
        .data
        .par_chunks(MIN_MAX_BLOCK)
        .map(block_min_max)
        .collect();
    combine_ranges(blocks)
}

/// The overall (min, max) of per-block ranges, combined in order, as f64.
pub(crate) fn combine_ranges(blocks: Vec<Option<(f32, f32)>>) -> Option<(f64, f64)> {
    blocks
        .into_iter()
        .flatten()
        .reduce(|(a, b), (lo, hi)| (lower(a, lo), higher(b, hi)))
        .map(|(lo, hi)| (f64::from(lo), f64::from(hi)))
}

fn lower(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

fn higher(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

/// Widens one lane's running minimum and maximum by `v` when it is finite, without
/// branches.
#[inline]
fn widen(lo: &mut f32, hi: &mut f32, finite: &mut bool, v: f32) {
    // False for infinities and NaN.
    let ok = v.abs() < f32::INFINITY;
    *finite |= ok;
    *lo = lower(*lo, if ok { v } else { f32::INFINITY });
    *hi = higher(*hi, if ok { v } else { f32::NEG_INFINITY });
}

/// Minimum and maximum of the finite values of `block`, `None` when it has none.
///
/// A plain minimum and maximum already skip NaN (a comparison with NaN is false); only
/// when they come out infinite, or nothing was found, is the block scanned again with
/// every non-finite value set aside.
pub(crate) fn block_min_max(block: &[f32]) -> Option<(f32, f32)> {
    let (lo, hi) = plain_min_max(block);
    if lo.is_finite() && hi.is_finite() {
        Some((lo, hi))
    } else {
        finite_min_max(block)
    }
}

/// Minimum and maximum of `block`, NaN skipped; (+∞, −∞) when empty.
fn plain_min_max(block: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let mut chunks = block.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in chunk.iter().enumerate().take(LANES) {
            lo[lane] = lower(lo[lane], v);
            hi[lane] = higher(hi[lane], v);
        }
    }
    for (lane, &v) in chunks.remainder().iter().enumerate() {
        lo[lane] = lower(lo[lane], v);
        hi[lane] = higher(hi[lane], v);
    }
    (
        lo.into_iter().fold(f32::INFINITY, lower),
        hi.into_iter().fold(f32::NEG_INFINITY, higher),
    )
}

/// Minimum and maximum of the finite values of `block`, `None` when it has none.
fn finite_min_max(block: &[f32]) -> Option<(f32, f32)> {
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let mut finite = [false; LANES];
    let mut chunks = block.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in chunk.iter().enumerate().take(LANES) {
            widen(&mut lo[lane], &mut hi[lane], &mut finite[lane], v);
        }
    }
    for (lane, &v) in chunks.remainder().iter().enumerate() {
        widen(&mut lo[lane], &mut hi[lane], &mut finite[lane], v);
    }
    finite.contains(&true).then(|| {
        let lo = lo.into_iter().fold(f32::INFINITY, lower);
        let hi = hi.into_iter().fold(f32::NEG_INFINITY, higher);
        (lo, hi)
    })
}

/// Statistics of the voxels of `volume` where `mask` is true.
pub fn stats(volume: &Volume, mask: &[bool]) -> Result<VoiStats, ErrorKind> {
    if mask.len() != volume.len() {
        return Err(ErrorKind::Voi(format!(
            "mask has {} voxels, the volume {}",
            mask.len(),
            volume.len()
        )));
    }
    let mut values: Vec<f64> = volume
        .data
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| f64::from(*v))
        .collect();
    if values.is_empty() {
        return Err(ErrorKind::Voi("the VOI holds no voxel".into()));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ErrorKind::Voi("the VOI holds non-finite values".into()));
    }
    let sum: f64 = values.iter().sum();
    let n = values.len();
    values.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    };
    Ok(VoiStats {
        suv_min: values[0],
        suv_median: median,
        suv_max: values[n - 1],
        suv_mean: sum / n as f64,
        suv_peak: suv_peak(volume, mask).map(|p| p.value),
        volume_ml: n as f64 * volume.voxel_ml(),
        voxels: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_small_voi() {
        let volume = Volume {
            dims: [4, 1, 1],
            spacing_mm: [10.0, 10.0, 10.0],
            origin_mm: [0.0; 3],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![1.0, 4.0, 2.0, 100.0],
        };
        let s = stats(&volume, &[true, true, true, false]).unwrap();
        assert_eq!((s.suv_min, s.suv_median, s.suv_max), (1.0, 2.0, 4.0));
        assert!((s.suv_mean - 7.0 / 3.0).abs() < 1e-12);
        assert!((s.volume_ml - 3.0).abs() < 1e-12);
        assert!(stats(&volume, &[false; 4]).is_err());
        assert!(stats(&volume, &[true; 3]).is_err());
        assert_eq!(min_max(&volume), Some((1.0, 100.0)));
        let mut big = volume.clone();
        big.data = (0..200_000)
            .map(|i| ((i * 7919) % 1000) as f32 - 3.5)
            .collect();
        big.data[123_456] = f32::NAN;
        big.data[7] = f32::INFINITY;
        big.dims = [200_000, 1, 1];
        assert_eq!(min_max(&big), Some((-3.5, 995.5)));
        big.data[99] = f32::NEG_INFINITY;
        assert_eq!(min_max(&big), Some((-3.5, 995.5)));
        big.data.iter_mut().for_each(|v| *v = f32::NAN);
        assert_eq!(min_max(&big), None);
        big.data[5] = f32::INFINITY;
        assert_eq!(min_max(&big), None);
    }
}
