//! A 3-D image volume in patient coordinates (DICOM LPS, millimetres).

/// A scalar volume on a regular grid.
///
/// Voxel `(i, j, k)` (column, row, slice) is stored at `data[i + j * nx + k * nx * ny]`.
/// Its centre lies at `origin_mm + i * spacing[0] * direction[0] + j * spacing[1] *
/// direction[1] + k * spacing[2] * direction[2]`, where `direction[0]` is the row
/// direction (along a row, i.e. increasing column), `direction[1]` the column direction
/// and `direction[2]` the slice normal, each a unit vector in patient LPS space.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Grid size: columns, rows, slices.
    pub dims: [usize; 3],
    /// Voxel spacing in mm: along a row, along a column, between slices.
    pub spacing_mm: [f64; 3],
    /// Centre of the first voxel in patient coordinates (mm).
    pub origin_mm: [f64; 3],
    /// Unit direction vectors of the three grid axes in patient coordinates.
    pub direction: [[f64; 3]; 3],
    /// Voxel values, x fastest.
    pub data: Vec<f32>,
}

impl Volume {
    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the volume holds no voxels.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Linear index of voxel `(i, j, k)`.
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + j * self.dims[0] + k * self.dims[0] * self.dims[1]
    }

    /// Volume of one voxel in millilitres.
    pub fn voxel_ml(&self) -> f64 {
        self.spacing_mm.iter().product::<f64>() / 1000.0
    }

    /// Centre of voxel `(i, j, k)` in patient coordinates (mm).
    pub fn position_mm(&self, i: f64, j: f64, k: f64) -> [f64; 3] {
        let steps = [
            i * self.spacing_mm[0],
            j * self.spacing_mm[1],
            k * self.spacing_mm[2],
        ];
        let mut p = self.origin_mm;
        for (axis, step) in steps.iter().enumerate() {
            for (c, value) in p.iter_mut().enumerate() {
                *value += step * self.direction[axis][c];
            }
        }
        p
    }
}
