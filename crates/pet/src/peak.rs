//! SUVpeak: the highest mean SUV in a 1 cm³ sphere.
//!
//! Definition (PERCIST 1.0, Wahl et al., J Nucl Med 2009;50:122S, and the QIBA FDG-PET
//! profile): the mean of a spherical volume of interest of 1 cm³ (radius 6.2035 mm),
//! positioned to maximise that mean.
//!
//! How we compute it:
//! * **Centres** are voxel centres (no sub-voxel shifts of the sphere), optionally
//!   restricted to a set of voxels (a lesion's component).
//! * **Partial voxels** are weighted by the fraction of their volume inside the sphere,
//!   estimated once per voxel spacing by sampling every voxel of the kernel's bounding
//!   box on a regular 8 × 8 × 8 sub-grid (sample points at the centres of the 512
//!   sub-cells). The mean is `Σ wᵢ·SUVᵢ / Σ wᵢ`, accumulated in f64 in a fixed order.
//! * **Edges**: kernel voxels outside the grid are skipped and the mean is taken over the
//!   weights that remain inside.
//! * **Ties**: the centre with the lowest linear index wins, so the result does not
//!   depend on the thread count.

use crate::volume::Volume;
use rayon::prelude::*;

/// Radius of a 1 cm³ sphere in mm: (3 · 1000 / 4π)^(1/3).
pub const PEAK_RADIUS_MM: f64 = 6.203_504_908_994;

/// Sub-samples per voxel axis used to estimate partial-volume weights.
const SUBSAMPLES: usize = 8;

/// Result of an SUVpeak search.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PeakResult {
    /// Weighted mean SUV inside the best sphere.
    pub value: f64,
    /// Centre of the best sphere in patient coordinates (mm).
    pub centre_mm: [f64; 3],
    /// Centre of the best sphere as a voxel index (column, row, slice).
    pub centre_voxel: [usize; 3],
}

/// Precomputed sphere kernel for one voxel spacing: voxel offsets and their weights.
#[derive(Debug, Clone, PartialEq)]
pub struct SphereKernel {
    /// Offsets (di, dj, dk) with a weight in (0, 1], in a fixed scan order.
    pub offsets: Vec<([isize; 3], f64)>,
    /// Largest absolute offset along each axis.
    pub reach: [usize; 3],
}

impl SphereKernel {
    /// Kernel for a sphere of `radius_mm` on a grid of `spacing_mm`.
    ///
    /// Returns an empty kernel for non-positive or non-finite inputs.
    pub fn new(spacing_mm: [f64; 3], radius_mm: f64) -> Self {
        let valid = spacing_mm.iter().all(|s| s.is_finite() && *s > 0.0)
            && radius_mm.is_finite()
            && radius_mm > 0.0;
        if !valid {
            return Self {
                offsets: Vec::new(),
                reach: [0; 3],
            };
        }
        // A voxel can overlap the sphere when its centre is within r + half a voxel.
        let reach = spacing_mm.map(|s| ((radius_mm + s / 2.0) / s).floor() as usize);
        let r2 = radius_mm * radius_mm;
        let n = SUBSAMPLES as f64;
        let mut offsets = Vec::new();
        let (ri, rj, rk) = (reach[0] as isize, reach[1] as isize, reach[2] as isize);
        for dk in -rk..=rk {
            for dj in -rj..=rj {
                for di in -ri..=ri {
                    let d = [di, dj, dk];
                    let mut inside = 0usize;
                    for a in 0..SUBSAMPLES {
                        let z = (dk as f64 + (a as f64 + 0.5) / n - 0.5) * spacing_mm[2];
                        for b in 0..SUBSAMPLES {
                            let y = (dj as f64 + (b as f64 + 0.5) / n - 0.5) * spacing_mm[1];
                            for c in 0..SUBSAMPLES {
                                let x = (di as f64 + (c as f64 + 0.5) / n - 0.5) * spacing_mm[0];
                                if x * x + y * y + z * z <= r2 {
                                    inside += 1;
                                }
                            }
                        }
                    }
                    if inside > 0 {
                        offsets.push((d, inside as f64 / (n * n * n)));
                    }
                }
            }
        }
        Self { offsets, reach }
    }

    /// Kernel of the 1 cm³ SUVpeak sphere for `spacing_mm`.
    pub fn peak(spacing_mm: [f64; 3]) -> Self {
        Self::new(spacing_mm, PEAK_RADIUS_MM)
    }

    /// Weighted mean of `suv` in the sphere centred on voxel `c`, or `None` when no
    /// weight falls inside the grid.
    pub fn mean_at(&self, suv: &Volume, c: [usize; 3]) -> Option<f64> {
        let [nx, ny, nz] = suv.dims;
        let interior = (0..3).all(|a| c[a] >= self.reach[a] && c[a] + self.reach[a] < suv.dims[a]);
        let (mut sum, mut weight) = (0.0f64, 0.0f64);
        if interior {
            let centre = suv.index(c[0], c[1], c[2]) as isize;
            for &([di, dj, dk], w) in &self.offsets {
                let idx = centre + di + dj * nx as isize + dk * (nx * ny) as isize;
                sum += w * f64::from(suv.data[idx as usize]);
                weight += w;
            }
        } else {
            for &([di, dj, dk], w) in &self.offsets {
                let (i, j, k) = (c[0] as isize + di, c[1] as isize + dj, c[2] as isize + dk);
                if i < 0
                    || j < 0
                    || k < 0
                    || i >= nx as isize
                    || j >= ny as isize
                    || k >= nz as isize
                {
                    continue;
                }
                sum += w * f64::from(suv.data[suv.index(i as usize, j as usize, k as usize)]);
                weight += w;
            }
        }
        (weight > 0.0).then(|| sum / weight)
    }
}

/// The kernel laid out for one grid: linear offsets and weights, summed in four fixed
/// lanes (offset index mod 4) so the additions do not wait on each other. The order is
/// fixed, so the result is the same on every run and thread count; it may differ from
/// [`SphereKernel::mean_at`] in the last bits.
struct LinearKernel {
    offsets: Vec<isize>,
    weights: Vec<f64>,
    total: f64,
}

impl LinearKernel {
    fn new(kernel: &SphereKernel, dims: [usize; 3]) -> Self {
        let (nx, plane) = (dims[0] as isize, (dims[0] * dims[1]) as isize);
        let offsets = kernel
            .offsets
            .iter()
            .map(|([di, dj, dk], _)| di + dj * nx + dk * plane)
            .collect();
        let weights: Vec<f64> = kernel.offsets.iter().map(|(_, w)| *w).collect();
        let total = weights.iter().sum();
        Self {
            offsets,
            weights,
            total,
        }
    }

    /// Weighted mean at an interior centre (every offset inside the grid).
    fn mean_interior(&self, data: &[f32], centre: usize) -> f64 {
        let at = |o: isize| f64::from(data[(centre as isize + o) as usize]);
        let mut acc = [0.0f64; 4];
        let (offsets, weights) = (self.offsets.chunks_exact(4), self.weights.chunks_exact(4));
        let (tail_o, tail_w) = (offsets.remainder(), weights.remainder());
        for (o, w) in offsets.zip(weights) {
            for lane in 0..4 {
                acc[lane] += w[lane] * at(o[lane]);
            }
        }
        for (lane, (o, w)) in tail_o.iter().zip(tail_w).enumerate() {
            acc[lane] += w * at(*o);
        }
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) / self.total
    }

    /// [`Self::mean_interior`] of the four centres `centre..centre + 4` (all interior),
    /// computed together: each centre's sum takes the same additions in the same order,
    /// so every mean has the same bits as when computed alone.
    fn mean_interior_x4(&self, data: &[f32], centre: usize) -> [f64; 4] {
        // acc[lane][c]: the lane sums of centre `centre + c`.
        let mut acc = [[0.0f64; 4]; 4];
        let mut add = |lane: usize, o: isize, w: f64| {
            let base = (centre as isize + o) as usize;
            let v = &data[base..base + 4];
            for c in 0..4 {
                acc[lane][c] += w * f64::from(v[c]);
            }
        };
        let (offsets, weights) = (self.offsets.chunks_exact(4), self.weights.chunks_exact(4));
        let (tail_o, tail_w) = (offsets.remainder(), weights.remainder());
        for (o, w) in offsets.zip(weights) {
            for lane in 0..4 {
                add(lane, o[lane], w[lane]);
            }
        }
        for (lane, (o, w)) in tail_o.iter().zip(tail_w).enumerate() {
            add(lane, *o, *w);
        }
        std::array::from_fn(|c| ((acc[0][c] + acc[1][c]) + (acc[2][c] + acc[3][c])) / self.total)
    }
}

/// Best sphere among the centre voxels `centres` (linear indices), using `kernel`.
///
/// Indices outside the grid are ignored; returns `None` when no centre is usable.
pub fn peak_over(suv: &Volume, centres: &[usize], kernel: &SphereKernel) -> Option<PeakResult> {
    let [nx, ny, _] = suv.dims;
    let linear = LinearKernel::new(kernel, suv.dims);
    let interior = |idx: usize| {
        let c = [idx % nx, (idx / nx) % ny, idx / (nx * ny)];
        (0..3).all(|a| c[a] >= kernel.reach[a] && c[a] + kernel.reach[a] < suv.dims[a])
    };
    let one = |idx: usize| {
        let c = [idx % nx, (idx / nx) % ny, idx / (nx * ny)];
        if interior(idx) && !linear.weights.is_empty() {
            Some((linear.mean_interior(&suv.data, idx), idx))
        } else {
            kernel.mean_at(suv, c).map(|m| (m, idx))
        }
    };
    let best = centres
        .par_chunks(4)
        .filter_map(|chunk| {
            // Four neighbours along a row, all interior: their sums are taken together.
            let together = chunk.len() == 4
                && !linear.weights.is_empty()
                && (1..4).all(|n| chunk[n] == chunk[0] + n)
                && chunk
                    .iter()
                    .all(|&idx| idx < suv.data.len() && interior(idx));
            if together {
                let means = linear.mean_interior_x4(&suv.data, chunk[0]);
                (0..4).map(|n| (means[n], chunk[n])).reduce(better)
            } else {
                chunk
                    .iter()
                    .filter(|&&idx| idx < suv.data.len())
                    .filter_map(|&idx| one(idx))
                    .reduce(better)
            }
        })
        .reduce_with(better)?;
    let (value, idx) = best;
    let c = [idx % nx, (idx / nx) % ny, idx / (nx * ny)];
    Some(PeakResult {
        value,
        centre_mm: suv.position_mm(c[0] as f64, c[1] as f64, c[2] as f64),
        centre_voxel: c,
    })
}

/// Higher mean wins; on equal means the lower index wins (associative and commutative,
/// so the parallel reduction is deterministic). NaN means never win.
fn better(a: (f64, usize), b: (f64, usize)) -> (f64, usize) {
    match (a.0.is_nan(), b.0.is_nan()) {
        (true, false) => return b,
        (false, true) => return a,
        _ => {}
    }
    if a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) {
        a
    } else {
        b
    }
}

/// SUVpeak of `suv`: the 1 cm³ sphere with the highest mean among centres where
/// `within` is true (`within` indexed like `suv.data`; empty means anywhere).
///
/// Returns `None` for an empty volume, a `within` of the wrong length, or no centre.
pub fn suv_peak(suv: &Volume, within: &[bool]) -> Option<PeakResult> {
    if suv.data.len() != suv.dims.iter().product::<usize>() {
        return None;
    }
    let kernel = SphereKernel::peak(suv.spacing_mm);
    let centres: Vec<usize> = if within.is_empty() {
        (0..suv.data.len()).collect()
    } else if within.len() == suv.data.len() {
        within
            .iter()
            .enumerate()
            .filter(|(_, w)| **w)
            .map(|(i, _)| i)
            .collect()
    } else {
        return None;
    };
    peak_over(suv, &centres, &kernel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(dims: [usize; 3], spacing: [f64; 3], value: f32) -> Volume {
        Volume {
            dims,
            spacing_mm: spacing,
            origin_mm: [0.0; 3],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![value; dims.iter().product()],
        }
    }

    #[test]
    fn kernel_weights_add_up_to_one_cubic_centimetre() {
        for spacing in [[4.0, 4.0, 4.0], [2.0, 2.0, 2.0], [3.0, 3.0, 1.65]] {
            let k = SphereKernel::peak(spacing);
            let ml: f64 = k.offsets.iter().map(|(_, w)| w).sum::<f64>()
                * spacing.iter().product::<f64>()
                / 1000.0;
            assert!((ml - 1.0).abs() < 0.02, "spacing {spacing:?}: {ml} mL");
        }
    }

    #[test]
    fn uniform_volume_has_peak_equal_to_its_value() {
        let v = volume([12, 12, 12], [4.0; 3], 2.5);
        let p = suv_peak(&v, &[]).unwrap();
        assert!((p.value - 2.5).abs() < 1e-12);
    }

    #[test]
    fn single_hot_voxel_peak_is_its_share_of_the_sphere() {
        // 4 mm voxels: the centre voxel (64 mm³) lies wholly inside a 6.2 mm sphere and
        // makes up 64/1000 of its volume, so the mean is about 0.064 × 100.
        let mut v = volume([9, 9, 9], [4.0; 3], 0.0);
        let c = v.index(4, 4, 4);
        v.data[c] = 100.0;
        let p = suv_peak(&v, &[]).unwrap();
        assert_eq!(p.centre_voxel, [4, 4, 4]);
        let w: f64 = SphereKernel::peak([4.0; 3])
            .offsets
            .iter()
            .map(|(_, w)| w)
            .sum();
        assert!((p.value - 100.0 / w).abs() < 1e-9);
        assert!((p.value - 6.4).abs() < 0.2, "{}", p.value);
    }

    #[test]
    fn laned_sum_agrees_with_the_generic_sum() {
        let dims = [15, 13, 17];
        let mut v = volume(dims, [3.0, 3.0, 1.65], 0.0);
        for (n, x) in v.data.iter_mut().enumerate() {
            *x = ((n * 7919) % 1000) as f32 / 37.0;
        }
        let kernel = SphereKernel::peak(v.spacing_mm);
        let linear = LinearKernel::new(&kernel, dims);
        let idx = v.index(7, 6, 8);
        let generic = kernel.mean_at(&v, [7, 6, 8]).unwrap();
        assert!((linear.mean_interior(&v.data, idx) - generic).abs() < 1e-12 * generic);
        let four = linear.mean_interior_x4(&v.data, idx);
        for (n, mean) in four.iter().enumerate() {
            assert_eq!(
                mean.to_bits(),
                linear.mean_interior(&v.data, idx + n).to_bits()
            );
        }
    }

    #[test]
    fn within_mask_restricts_centres() {
        let mut v = volume([9, 9, 9], [4.0; 3], 0.0);
        let hot = v.index(1, 1, 1);
        v.data[hot] = 50.0;
        let mut within = vec![false; v.len()];
        within[v.index(7, 7, 7)] = true;
        let p = suv_peak(&v, &within).unwrap();
        assert_eq!(p.centre_voxel, [7, 7, 7]);
        assert_eq!(p.value, 0.0);
        assert!(suv_peak(&v, &[true; 3]).is_none());
    }
}
