//! Connected components of a thresholded volume, 26-connectivity, run-length based.
//!
//! Supra-threshold voxels are first gathered as runs along x (one row at a time, rows in
//! parallel per slice), then runs are joined with a union-find: two runs touch under
//! 26-connectivity when they lie in neighbouring rows (the 8 rows around a row in the
//! same and adjacent slices) and their x ranges overlap once widened by one voxel.
//! Memory is proportional to the number of runs, not to the number of voxels, and the
//! result does not depend on the thread count: runs are concatenated in slice order and
//! joined sequentially.

use rayon::prelude::*;

/// A run of consecutive supra-threshold voxels along x in row `j` of slice `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Row (y index).
    pub j: usize,
    /// Slice (z index).
    pub k: usize,
    /// First column (inclusive).
    pub x0: usize,
    /// Last column (exclusive).
    pub x1: usize,
}

impl Run {
    /// Number of voxels in the run.
    pub fn len(&self) -> usize {
        self.x1 - self.x0
    }

    /// Whether the run holds no voxel (never true for runs built here).
    pub fn is_empty(&self) -> bool {
        self.x1 <= self.x0
    }
}

/// A connected component as the list of its runs, in scan order (k, then j, then x).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The runs making up the component.
    pub runs: Vec<Run>,
}

impl Component {
    /// Number of voxels.
    pub fn voxels(&self) -> usize {
        self.runs.iter().map(Run::len).sum()
    }

    /// Linear voxel indices in scan order, for a grid of size `dims`.
    pub fn indices(&self, dims: [usize; 3]) -> impl Iterator<Item = usize> + '_ {
        self.runs.iter().flat_map(move |r| {
            let base = r.j * dims[0] + r.k * dims[0] * dims[1];
            (base + r.x0)..(base + r.x1)
        })
    }
}

/// Runs of voxels for which `keep(value)` holds, for every row of the grid `dims`.
///
/// Returns the runs in scan order and, for each row `j + k * ny`, the index of its first
/// run (length `ny * nz + 1`, so row `r` holds runs `row_start[r]..row_start[r + 1]`).
pub fn runs_where(
    data: &[f32],
    dims: [usize; 3],
    keep: impl Fn(f32) -> bool + Sync,
) -> (Vec<Run>, Vec<usize>) {
    let [nx, ny, nz] = dims;
    let per_slice: Vec<Vec<Run>> = (0..nz)
        .into_par_iter()
        .map(|k| slice_runs(&data[k * nx * ny..(k + 1) * nx * ny], k, [nx, ny], &keep))
        .collect();
    index_runs(per_slice, dims)
}

/// Runs of voxels for which `keep(value)` holds in `plane`, slice `k` of a grid whose
/// slices are `plane_dims` (columns, rows).
pub(crate) fn slice_runs(
    plane: &[f32],
    k: usize,
    plane_dims: [usize; 2],
    keep: &impl Fn(f32) -> bool,
) -> Vec<Run> {
    let [nx, ny] = plane_dims;
    let mut out = Vec::new();
    for j in 0..ny {
        let row = &plane[j * nx..(j + 1) * nx];
        if !row_may_hold(row, keep) {
            continue;
        }
        let mut start = None;
        for (i, &v) in row.iter().enumerate() {
            match (keep(v), start) {
                (true, None) => start = Some(i),
                (false, Some(x0)) => {
                    out.push(Run { j, k, x0, x1: i });
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(x0) = start {
            out.push(Run { j, k, x0, x1: nx });
        }
    }
    out
}

/// Concatenates per-slice runs in slice order and indexes them by row (see
/// [`runs_where`]).
pub(crate) fn index_runs(per_slice: Vec<Vec<Run>>, dims: [usize; 3]) -> (Vec<Run>, Vec<usize>) {
    let [_, ny, nz] = dims;
    let runs: Vec<Run> = per_slice.into_iter().flatten().collect();
    let mut row_start = vec![0usize; ny * nz + 1];
    for r in &runs {
        row_start[r.j + r.k * ny + 1] += 1;
    }
    for r in 1..row_start.len() {
        row_start[r] += row_start[r - 1];
    }
    (runs, row_start)
}

/// Whether any value of `row` passes `keep`, checked 16 values at a time without
/// early exit inside a block so the compiler can vectorise the comparisons; most rows of
/// a PET volume hold nothing above the candidate threshold.
fn row_may_hold(row: &[f32], keep: &impl Fn(f32) -> bool) -> bool {
    let mut blocks = row.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &v| any | keep(v)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&v| keep(v))
}

/// Union-find with path halving; the smaller index becomes the root so that roots are
/// the first run of each component in scan order.
struct Forest(Vec<usize>);

impl Forest {
    fn find(&mut self, mut a: usize) -> usize {
        while self.0[a] != a {
            self.0[a] = self.0[self.0[a]];
            a = self.0[a];
        }
        a
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// Groups runs (as returned by [`runs_where`]) into 26-connected components.
///
/// Components are ordered by their first voxel in scan order.
pub fn group_runs(runs: Vec<Run>, row_start: &[usize], dims: [usize; 3]) -> Vec<Component> {
    let [_, ny, _] = dims;
    let mut forest = Forest((0..runs.len()).collect());
    for (a, run) in runs.iter().enumerate() {
        // Earlier neighbouring rows: (j-1, k) and (j-1..=j+1, k-1).
        let mut rows = [None; 4];
        if run.j > 0 {
            rows[0] = Some((run.j - 1, run.k));
        }
        if run.k > 0 {
            for (slot, dj) in [-1isize, 0, 1].iter().enumerate() {
                let j = run.j as isize + dj;
                if j >= 0 && (j as usize) < ny {
                    rows[slot + 1] = Some((j as usize, run.k - 1));
                }
            }
        }
        for (j, k) in rows.into_iter().flatten() {
            let row = j + k * ny;
            for (b, other) in runs
                .iter()
                .enumerate()
                .take(row_start[row + 1])
                .skip(row_start[row])
            {
                // Diagonal neighbours count: widen by one voxel on each side.
                if other.x0 <= run.x1 && run.x0 <= other.x1 {
                    forest.union(a, b);
                }
            }
        }
    }
    let mut slot_of_root = vec![usize::MAX; runs.len()];
    let mut components: Vec<Component> = Vec::new();
    for (a, run) in runs.into_iter().enumerate() {
        let root = forest.find(a);
        if slot_of_root[root] == usize::MAX {
            slot_of_root[root] = components.len();
            components.push(Component { runs: Vec::new() });
        }
        components[slot_of_root[root]].runs.push(run);
    }
    components
}

/// Components of voxels with `value >= threshold` (NaN never counts).
pub fn components_above(data: &[f32], dims: [usize; 3], threshold: f32) -> Vec<Component> {
    let (runs, row_start) = runs_where(data, dims, |v| v >= threshold);
    group_runs(runs, &row_start, dims)
}

/// Components of the voxels of `parent` whose value is at least `threshold`.
pub fn sub_components(
    data: &[f32],
    dims: [usize; 3],
    parent: &Component,
    threshold: f32,
) -> Vec<Component> {
    let [nx, ny, nz] = dims;
    let mut runs = Vec::new();
    for r in &parent.runs {
        let base = r.j * nx + r.k * nx * ny;
        let mut start = None;
        for i in r.x0..r.x1 {
            match (data[base + i] >= threshold, start) {
                (true, None) => start = Some(i),
                (false, Some(x0)) => {
                    runs.push(Run {
                        j: r.j,
                        k: r.k,
                        x0,
                        x1: i,
                    });
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(x0) = start {
            runs.push(Run {
                j: r.j,
                k: r.k,
                x0,
                x1: r.x1,
            });
        }
    }
    let mut row_start = vec![0usize; ny * nz + 1];
    for r in &runs {
        row_start[r.j + r.k * ny + 1] += 1;
    }
    for r in 1..row_start.len() {
        row_start[r] += row_start[r - 1];
    }
    group_runs(runs, &row_start, dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(dims: [usize; 3], on: &[[usize; 3]]) -> Vec<f32> {
        let mut data = vec![0.0; dims.iter().product()];
        for &[i, j, k] in on {
            data[i + j * dims[0] + k * dims[0] * dims[1]] = 1.0;
        }
        data
    }

    #[test]
    fn corner_touching_voxels_are_one_component_under_26_connectivity() {
        let dims = [4, 4, 4];
        let data = grid(dims, &[[0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 3, 3]]);
        let comps = components_above(&data, dims, 0.5);
        assert_eq!(comps.len(), 2);
        assert_eq!(comps[0].voxels(), 3);
        assert_eq!(comps[1].voxels(), 1);
    }

    #[test]
    fn u_shape_merges_through_a_later_row() {
        // Two arms in row 0 that only join in row 2: union-find must merge them.
        let dims = [5, 3, 1];
        let data = grid(
            dims,
            &[
                [0, 0, 0],
                [4, 0, 0],
                [0, 1, 0],
                [4, 1, 0],
                [0, 2, 0],
                [1, 2, 0],
                [2, 2, 0],
                [3, 2, 0],
                [4, 2, 0],
            ],
        );
        let comps = components_above(&data, dims, 0.5);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].voxels(), 9);
        let idx: Vec<usize> = comps[0].indices(dims).collect();
        assert_eq!(idx[0], 0);
        assert_eq!(*idx.last().unwrap(), 14);
    }

    #[test]
    fn gap_of_one_voxel_separates() {
        let dims = [5, 1, 1];
        let data = grid(dims, &[[0, 0, 0], [2, 0, 0], [4, 0, 0]]);
        assert_eq!(components_above(&data, dims, 0.5).len(), 3);
    }

    #[test]
    fn sub_components_split_a_parent_at_a_higher_threshold() {
        let dims = [6, 1, 1];
        let data = vec![5.0, 9.0, 5.0, 5.0, 9.0, 9.0];
        let parent = &components_above(&data, dims, 1.0)[0];
        let subs = sub_components(&data, dims, parent, 8.0);
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[1].voxels(), 2);
    }
}
