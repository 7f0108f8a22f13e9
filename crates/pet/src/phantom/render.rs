//! Painting the phantom on its voxel grid, and reading the noise-free truth back from it.
//!
//! Tissue is sampled at voxel centres; a lesion sphere is blended into each voxel by the
//! fraction of the voxel it covers (4 × 4 × 4 sub-samples), its uptake replacing the
//! tissue's. The phantom grid is axis-aligned (identity direction), so coordinates are
//! separable and a sphere's voxels fit in an index box.

use super::anatomy::{Anatomy, LesionSpec};
use crate::volume::Volume;
use rayon::prelude::*;

/// Sub-samples per axis when measuring how much of a voxel a sphere covers.
const SUB: usize = 4;

/// Tissue uptake at every voxel centre (lesions not painted).
pub(super) fn paint_tissue(vol: &Volume, anatomy: &Anatomy) -> Vec<f32> {
    let [nx, ny, nz] = vol.dims;
    let mut data = vec![0.0f32; nx * ny * nz];
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
    data
}

/// Blends one lesion sphere into `data` by its coverage of each voxel.
pub(super) fn paint_lesion(vol: &Volume, data: &mut [f32], lesion: &LesionSpec) {
    let r = lesion.diameter_mm / 2.0;
    let (lo, hi) = lesion_box(vol, lesion.centre_mm, r);
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                let w = coverage(vol, lesion.centre_mm, r, [i, j, k]);
                let idx = vol.index(i, j, k);
                data[idx] = (1.0 - w) * data[idx] + w * lesion.activity_suv as f32;
            }
        }
    }
}

/// The voxels a lesion of radius `r` may touch: its bounding box widened by one voxel.
pub(super) fn lesion_box(vol: &Volume, centre: [f64; 3], r: f64) -> ([usize; 3], [usize; 3]) {
    voxel_box(
        vol,
        centre,
        r + vol.spacing_mm.iter().copied().fold(0.0, f64::max),
    )
}

/// Fraction of voxel `v` inside the sphere (`SUB`³ sub-samples).
pub(super) fn coverage(vol: &Volume, centre: [f64; 3], r: f64, v: [usize; 3]) -> f32 {
    let mut inside = 0usize;
    for a in 0..SUB * SUB * SUB {
        let f = |n: usize| (n as f64 + 0.5) / SUB as f64 - 0.5;
        let p = vol.position_mm(
            v[0] as f64 + f(a % SUB),
            v[1] as f64 + f(a / SUB % SUB),
            v[2] as f64 + f(a / (SUB * SUB)),
        );
        let d2: f64 = (0..3).map(|c| (p[c] - centre[c]).powi(2)).sum();
        inside += usize::from(d2 <= r * r);
    }
    (inside as f64 / (SUB * SUB * SUB) as f64) as f32
}

/// Inclusive voxel index box around a point (axis-aligned grid), clipped to the grid.
pub(super) fn voxel_box(vol: &Volume, centre: [f64; 3], reach_mm: f64) -> ([usize; 3], [usize; 3]) {
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

/// The voxels a reader's SUVmax of the sphere looks at: the voxel nearest the centre and
/// every voxel whose centre lies in the sphere; `None` when the centre is outside the grid.
pub(super) fn sphere_voxels(
    vol: &Volume,
    centre: [f64; 3],
    radius: f64,
) -> Option<Vec<[usize; 3]>> {
    let mut nearest = [0usize; 3];
    for a in 0..3 {
        let n = ((centre[a] - vol.origin_mm[a]) / vol.spacing_mm[a]).round();
        if n < 0.0 || n > vol.dims[a] as f64 - 1.0 {
            return None;
        }
        nearest[a] = n as usize;
    }
    let mut voxels = vec![nearest];
    let (lo, hi) = voxel_box(vol, centre, radius);
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                let p = vol.position_mm(i as f64, j as f64, k as f64);
                if (0..3).map(|c| (p[c] - centre[c]).powi(2)).sum::<f64>() <= radius * radius {
                    voxels.push([i, j, k]);
                }
            }
        }
    }
    Some(voxels)
}

/// Highest voxel of [`sphere_voxels`]; `None` when the centre is outside the grid.
pub(super) fn max_in_sphere(vol: &Volume, centre: [f64; 3], radius: f64) -> Option<f64> {
    sphere_voxels(vol, centre, radius)?
        .iter()
        .map(|&[i, j, k]| f64::from(vol.data[vol.index(i, j, k)]))
        .reduce(f64::max)
}
