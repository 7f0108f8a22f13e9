//! Per-candidate measurements: SUVmax, SUVpeak, SUVmean and metabolic volume, uptake.
//!
//! Definitions (PERCIST 1.0, Wahl et al., J Nucl Med 2009;50:122S; Boellaard et al.,
//! EANM guideline, Eur J Nucl Med Mol Imaging 2015;42:328 for the 41 % threshold):
//! * **SUVmax**: the highest voxel of the component (ties: lowest linear index).
//! * **MTV**: voxels of the component with SUV ≥ `fraction × SUVmax`. When that level is
//!   below the candidate threshold (faint lesions) the component is only a seed: the
//!   region continues through 26-connected voxels ≥ `fraction × SUVmax` past the
//!   component's edge, so that a faint lesion's volume is measured at its own 41 %
//!   contour rather than cut at the threshold. The contour must close within
//!   [`GROW_MARGIN_MM`] of the component's bounding box; if it does not (the surroundings
//!   are as warm as 41 % of SUVmax, e.g. a noise peak in the blood pool or a faint lesion
//!   in the spine) the MTV stays the component, which then usually falls under the
//!   minimum volume: low-contrast candidates are dropped rather than measured wrongly.
//!   Candidates found inside an organ by contrast never grow (they would leak into it).
//! * **SUVmean** over the MTV, **TLU** = SUVmean × MTV (mL), **centroid** = unweighted mean
//!   voxel position of the MTV, mapped with `Volume::position_mm`.
//! * **SUVpeak**: see [`crate::peak`]; sphere centres restricted to the component.

use super::components::Component;
use crate::peak::{SphereKernel, peak_over};
use crate::physiology::ComponentSummary;
use crate::volume::Volume;

/// Furthest an MTV region may grow past its component's bounding box (mm).
pub const GROW_MARGIN_MM: f64 = 10.0;

/// Measurements of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub suv_max: f64,
    pub max_voxel: [usize; 3],
    pub suv_peak: f64,
    pub suv_mean: f64,
    pub mtv_ml: f64,
    pub tlu: f64,
    pub centroid_mm: [f64; 3],
    pub voxels: usize,
}

/// Size, uptake and position of a component, for the physiology heuristic.
pub fn summarise(suv: &Volume, comp: &Component) -> ComponentSummary {
    let (mut n, mut sum, mut max) = (0usize, 0.0f64, f64::NEG_INFINITY);
    let mut pos = [0.0f64; 3];
    let (mut kmin, mut kmax) = (usize::MAX, 0usize);
    for r in &comp.runs {
        kmin = kmin.min(r.k);
        kmax = kmax.max(r.k);
        let base = suv.index(0, r.j, r.k);
        for i in r.x0..r.x1 {
            let v = f64::from(suv.data[base + i]);
            sum += v;
            max = max.max(v);
        }
        let len = r.len() as f64;
        pos[0] += (r.x0 + r.x1 - 1) as f64 / 2.0 * len;
        pos[1] += r.j as f64 * len;
        pos[2] += r.k as f64 * len;
        n += r.len();
    }
    let nf = n.max(1) as f64;
    let c = pos.map(|p| p / nf);
    let za = suv.position_mm(c[0], c[1], kmin as f64)[2];
    let zb = suv.position_mm(c[0], c[1], kmax as f64)[2];
    ComponentSummary {
        volume_ml: n as f64 * suv.voxel_ml(),
        suv_max: max,
        suv_mean: sum / nf,
        centroid_mm: suv.position_mm(c[0], c[1], c[2]),
        centroid_slice: c[2].round() as usize,
        z_range_mm: [za.min(zb), za.max(zb)],
    }
}

/// Measures a component. `grow` lets the MTV extend past the component (see module docs).
pub fn measure(
    suv: &Volume,
    comp: &Component,
    fraction: f32,
    grow: bool,
    kernel: &SphereKernel,
) -> Option<Metrics> {
    let dims = suv.dims;
    let indices: Vec<usize> = comp.indices(dims).collect();
    let (max_idx, max) = indices.iter().map(|&i| (i, suv.data[i])).fold(
        None,
        |best: Option<(usize, f32)>, (i, v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((i, v)),
        },
    )?;
    let level = fraction * max;
    let min_in_comp = indices
        .iter()
        .map(|&i| suv.data[i])
        .fold(f32::INFINITY, f32::min);
    let mut region: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| suv.data[i] >= level)
        .collect();
    if grow && level < min_in_comp {
        region.extend(grow_region(suv, comp, &indices, level).unwrap_or_default());
    }
    let peak = peak_over(suv, &indices, kernel)?;
    let (mut sum, mut pos) = (0.0f64, [0.0f64; 3]);
    for &idx in &region {
        sum += f64::from(suv.data[idx]);
        let c = unravel(idx, dims);
        for a in 0..3 {
            pos[a] += c[a] as f64;
        }
    }
    let n = region.len().max(1) as f64;
    let suv_mean = sum / n;
    let mtv_ml = region.len() as f64 * suv.voxel_ml();
    Some(Metrics {
        suv_max: f64::from(max),
        max_voxel: unravel(max_idx, dims),
        suv_peak: peak.value,
        suv_mean,
        mtv_ml,
        tlu: suv_mean * mtv_ml,
        centroid_mm: suv.position_mm(pos[0] / n, pos[1] / n, pos[2] / n),
        voxels: region.len(),
    })
}

fn unravel(idx: usize, dims: [usize; 3]) -> [usize; 3] {
    [
        idx % dims[0],
        (idx / dims[0]) % dims[1],
        idx / (dims[0] * dims[1]),
    ]
}

/// Voxels outside `comp`, 26-connected to it through voxels ≥ `level`, within the
/// component's bounding box widened by [`GROW_MARGIN_MM`]; `None` when the region
/// reaches that box's edge (the level is at or below the surroundings' uptake, as for a
/// noise peak in the blood pool: then no contour closes around the candidate and it is
/// not grown). Breadth-first from the component's voxels in scan order, so the result
/// is deterministic.
fn grow_region(
    suv: &Volume,
    comp: &Component,
    indices: &[usize],
    level: f32,
) -> Option<Vec<usize>> {
    let dims = suv.dims;
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    for r in &comp.runs {
        for (a, (l, h)) in [(r.x0, r.x1 - 1), (r.j, r.j), (r.k, r.k)]
            .into_iter()
            .enumerate()
        {
            lo[a] = lo[a].min(l);
            hi[a] = hi[a].max(h);
        }
    }
    // Faces of the search box that lie inside the grid: reaching one means the region
    // did not close around the candidate.
    let mut open = [[false; 2]; 3];
    for a in 0..3 {
        let m = (GROW_MARGIN_MM / suv.spacing_mm[a]).ceil() as usize;
        open[a] = [lo[a] >= m, hi[a] + m < dims[a]];
        lo[a] = lo[a].saturating_sub(m);
        hi[a] = (hi[a] + m).min(dims[a] - 1);
    }
    let size = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
    let local = |c: [usize; 3]| {
        (c[0] - lo[0]) + (c[1] - lo[1]) * size[0] + (c[2] - lo[2]) * size[0] * size[1]
    };
    let mut seen = vec![false; size[0] * size[1] * size[2]];
    let mut queue: std::collections::VecDeque<[usize; 3]> = std::collections::VecDeque::new();
    for &idx in indices {
        let c = unravel(idx, dims);
        seen[local(c)] = true;
        queue.push_back(c);
    }
    let mut added = Vec::new();
    while let Some(c) = queue.pop_front() {
        for dk in -1isize..=1 {
            for dj in -1isize..=1 {
                for di in -1isize..=1 {
                    let n = [c[0] as isize + di, c[1] as isize + dj, c[2] as isize + dk];
                    if (0..3).any(|a| n[a] < lo[a] as isize || n[a] > hi[a] as isize) {
                        continue;
                    }
                    let n = n.map(|v| v as usize);
                    let l = local(n);
                    if seen[l] {
                        continue;
                    }
                    seen[l] = true;
                    let idx = suv.index(n[0], n[1], n[2]);
                    if suv.data[idx] >= level {
                        let on_face = (0..3).any(|a| {
                            (open[a][0] && n[a] == lo[a]) || (open[a][1] && n[a] == hi[a])
                        });
                        if on_face {
                            return None;
                        }
                        added.push(idx);
                        queue.push_back(n);
                    }
                }
            }
        }
    }
    added.sort_unstable();
    Some(added)
}
