//! The uptake to paint in a requested lesion so that a reader measures the SUVmax asked for.
//!
//! A small sphere loses contrast to the scanner's blur (partial volume): a 12 mm lesion
//! under a 6 mm FWHM PSF on 6 mm voxels peaks at well under half its uptake above the
//! background. Rather than an analytic recovery coefficient (a sphere under a Gaussian is
//! exact only for a continuous image, not for the voxel sampling, the sub-voxel painting
//! and the truncated taps the phantom uses), we solve the phantom's own forward model
//! around the lesion, which is linear in the uptake `A`:
//!
//! painted = t + w·(A − t), so blurred = B(t) − B(w·t) + A·B(w)
//!
//! with `t` the tissue image, `w` the sphere's coverage of each voxel and `B` the same
//! separable blur as [`super::scanner::blur`], taken on a box around the lesion wide
//! enough that every voxel of the sphere sees exactly what the whole-volume blur sees.
//! The reader's SUVmax is the largest blurred value over the sphere's voxels, so the `A`
//! that makes it equal the target is the smallest, over those voxels, of
//! `(target − B(t) + B(w·t)) / B(w)`. One pass, exact up to float rounding, whatever the
//! lesion's size, its position against the voxel grid, or a nearby organ's uptake.
//! Lesions are kept apart (see [`super::slots::LESION_GAP_MM`]) so that one's blur does
//! not reach another's voxels and each can be solved alone.

use super::render::{coverage, lesion_box, sphere_voxels};
use super::scanner;
use crate::volume::Volume;

/// Uptake (SUV) to paint uniformly in the sphere so that the noise-free blurred image's
/// highest voxel in it equals `target`. `tissue` holds the tissue image (lesions not
/// painted). `None` when the centre is outside the grid or when no uptake gives `target`
/// (the blurred surroundings already exceed it).
pub(super) fn activity_for_peak(
    tissue: &Volume,
    taps: [&[f32]; 3],
    centre: [f64; 3],
    diameter_mm: f64,
    target: f64,
) -> Option<f64> {
    let r = diameter_mm / 2.0;
    let voxels = sphere_voxels(tissue, centre, r)?;
    let (lo_w, hi_w) = lesion_box(tissue, centre, r);
    // Widen the painted box by the taps' reach so the local blur is exact on it.
    let mut lo = [0usize; 3];
    let mut dims = [0usize; 3];
    for a in 0..3 {
        let reach = taps[a].len() / 2;
        lo[a] = lo_w[a].saturating_sub(reach);
        let hi = (hi_w[a] + reach).min(tissue.dims[a] - 1);
        dims[a] = hi - lo[a] + 1;
    }
    let local =
        |v: [usize; 3]| (v[0] - lo[0]) + dims[0] * ((v[1] - lo[1]) + dims[1] * (v[2] - lo[2]));
    let n = dims.iter().product::<usize>();
    let (mut t, mut w, mut wt) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    for k in lo[2]..lo[2] + dims[2] {
        for j in lo[1]..lo[1] + dims[1] {
            for i in lo[0]..lo[0] + dims[0] {
                let at = local([i, j, k]);
                t[at] = tissue.data[tissue.index(i, j, k)];
                let inside = (0..3).all(|a| (lo_w[a]..=hi_w[a]).contains(&[i, j, k][a]));
                if inside {
                    w[at] = coverage(tissue, centre, r, [i, j, k]);
                    wt[at] = w[at] * t[at];
                }
            }
        }
    }
    for image in [&mut t, &mut w, &mut wt] {
        scanner::blur(image, dims, taps);
    }
    let mut best = f64::INFINITY;
    for v in voxels {
        let at = local(v);
        let (bt, bw, bwt) = (f64::from(t[at]), f64::from(w[at]), f64::from(wt[at]));
        if bw > 1e-6 {
            best = best.min((target - bt + bwt) / bw);
        } else if bt - bwt > target {
            return None;
        }
    }
    best.is_finite().then_some(best)
}
