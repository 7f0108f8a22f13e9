//! NIfTI-1 masks (`.nii`, `.nii.gz`) read with our own header parser and put on the PET grid.
//!
//! The header is the 348-byte NIfTI-1 header (NIfTI-1.1 specification, `nifti1.h`), in
//! either byte order. Voxel data must be in the same file (`n+1`); the `ni1` pair form is
//! refused. Gzip is recognised by its magic bytes, not by the file name.
//!
//! Voxel → world: the sform (`srow_x/y/z`) when `sform_code > 0`, else the qform
//! (quaternion, `qfac` in `pixdim[0]`) when `qform_code > 0`, else `pixdim` scaling alone
//! (with a warning). NIfTI world space is RAS; DICOM patient space is LPS, so x and y change
//! sign.
//!
//! On the PET grid: when the mask has the same size and every corner voxel centre lies within
//! 5 % of a voxel of the PET voxel centre, mask voxel (i, j, k) is PET voxel (i, j, k).
//! Otherwise each PET voxel centre is mapped through the inverse mask transform and takes the
//! nearest mask voxel (a warning says so); PET voxels outside the mask are outside the VOI.
//! A voxel is in the VOI when its mask value (after `scl_slope`/`scl_inter`) is not 0.

use std::io::Read;
use std::path::Path;

use crate::error::{ErrorKind, PetError};
use crate::volume::Volume;

/// Largest decompressed file accepted (protects against gzip bombs).
const MAX_BYTES: u64 = 2 << 30;

/// A NIfTI-1 image with its voxel-to-LPS transform.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiImage {
    /// Size along i, j, k.
    pub dims: [usize; 3],
    /// Rows of the 3×4 voxel-index → LPS (mm) transform.
    pub affine_lps: [[f64; 4]; 3],
    /// Which header transform was used: `sform`, `qform` or `pixdim`.
    pub transform: &'static str,
    /// Voxel values (scaled), i fastest.
    pub data: Vec<f32>,
}

/// A mask on a PET grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridMask {
    /// One flag per PET voxel, in the volume's order.
    pub inside: Vec<bool>,
    /// How the mask was mapped, and any doubt about it.
    pub warnings: Vec<String>,
}

/// Reads a `.nii` or `.nii.gz` file.
pub fn read_nifti(path: &Path) -> Result<NiftiImage, PetError> {
    let at = |kind| PetError::at(path, kind);
    let raw = std::fs::read(path).map_err(|e| at(ErrorKind::Io(e.to_string())))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(MAX_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| at(ErrorKind::Nifti(format!("gzip: {e}"))))?;
        out
    } else {
        raw
    };
    parse_nifti(&bytes).map_err(at)
}

/// Little reader over the header in its byte order.
struct Header<'a> {
    b: &'a [u8],
    big_endian: bool,
}

impl Header<'_> {
    fn i16(&self, at: usize) -> i16 {
        let v = [self.b[at], self.b[at + 1]];
        if self.big_endian {
            i16::from_be_bytes(v)
        } else {
            i16::from_le_bytes(v)
        }
    }

    fn f32(&self, at: usize) -> f64 {
        let v = [self.b[at], self.b[at + 1], self.b[at + 2], self.b[at + 3]];
        f64::from(if self.big_endian {
            f32::from_be_bytes(v)
        } else {
            f32::from_le_bytes(v)
        })
    }
}

fn bad(msg: impl Into<String>) -> ErrorKind {
    ErrorKind::Nifti(msg.into())
}

/// Parses a whole (decompressed) NIfTI-1 single file.
pub fn parse_nifti(b: &[u8]) -> Result<NiftiImage, ErrorKind> {
    if b.len() < 352 {
        return Err(bad(format!(
            "{} bytes, shorter than a NIfTI-1 header",
            b.len()
        )));
    }
    let big_endian = match (
        i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        i32::from_be_bytes([b[0], b[1], b[2], b[3]]),
    ) {
        (348, _) => false,
        (_, 348) => true,
        _ => return Err(bad("sizeof_hdr is not 348: not a NIfTI-1 file")),
    };
    match &b[344..348] {
        b"n+1\0" => {}
        b"ni1\0" => return Err(bad("header-only ni1 file (.hdr/.img pair) not supported")),
        m => return Err(bad(format!("magic {m:?} is not n+1"))),
    }
    let h = Header { b, big_endian };
    let ndim = h.i16(40);
    if !(1..=7).contains(&ndim) {
        return Err(bad(format!("dim[0] = {ndim} out of 1..7")));
    }
    let mut dims = [1usize; 3];
    for (axis, d) in dims.iter_mut().enumerate() {
        if (axis as i16) < ndim {
            let v = h.i16(42 + 2 * axis);
            if v < 1 {
                return Err(bad(format!("dim[{}] = {v} is not positive", axis + 1)));
            }
            *d = v as usize;
        }
    }
    for axis in 3..ndim as usize {
        if h.i16(42 + 2 * axis) > 1 {
            return Err(bad(format!(
                "dim[{}] > 1: only 3-D masks are read",
                axis + 1
            )));
        }
    }
    let datatype = h.i16(70);
    let width = match datatype {
        2 | 256 => 1,
        4 | 512 => 2,
        8 | 16 | 768 => 4,
        64 => 8,
        other => return Err(bad(format!("datatype {other} not supported"))),
    };
    let vox_offset = h.f32(108);
    if !(352.0..=1.0e9).contains(&vox_offset) {
        return Err(bad(format!("vox_offset {vox_offset} invalid")));
    }
    let start = vox_offset as usize;
    let count = dims[0] * dims[1] * dims[2];
    let end = start + count * width;
    if b.len() < end {
        return Err(bad(format!(
            "voxel data truncated: {} bytes, {end} needed",
            b.len()
        )));
    }
    let (mut slope, inter) = (h.f32(112), h.f32(116));
    if slope == 0.0 || !slope.is_finite() {
        slope = 1.0;
    }
    let inter = if inter.is_finite() { inter } else { 0.0 };
    let data = b[start..end]
        .chunks_exact(width)
        .map(|c| value(c, datatype, big_endian) * slope + inter)
        .map(|v| v as f32)
        .collect();
    let (affine_ras, transform) = affine(&h)?;
    // RAS → LPS: negate the x and y rows.
    let mut affine_lps = affine_ras;
    for row in affine_lps.iter_mut().take(2) {
        for v in row.iter_mut() {
            *v = -*v;
        }
    }
    Ok(NiftiImage {
        dims,
        affine_lps,
        transform,
        data,
    })
}

fn value(c: &[u8], datatype: i16, be: bool) -> f64 {
    macro_rules! get {
        ($t:ty, $n:expr) => {{
            let mut a = [0u8; $n];
            a.copy_from_slice(c);
            if be {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }
        }};
    }
    match datatype {
        2 => f64::from(c[0]),
        256 => f64::from(c[0] as i8),
        4 => f64::from(get!(i16, 2)),
        512 => f64::from(get!(u16, 2)),
        8 => f64::from(get!(i32, 4)),
        768 => f64::from(get!(u32, 4)),
        16 => f64::from(get!(f32, 4)),
        _ => get!(f64, 8),
    }
}

/// The voxel → RAS transform of the header (NIfTI-1 methods 3, 2, 1).
fn affine(h: &Header) -> Result<([[f64; 4]; 3], &'static str), ErrorKind> {
    let pix = [h.f32(80), h.f32(84), h.f32(88)];
    if h.i16(254) > 0 {
        let mut m = [[0.0; 4]; 3];
        for (r, row) in m.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = h.f32(280 + 16 * r + 4 * c);
            }
        }
        return finite(m, "sform");
    }
    if h.i16(252) > 0 {
        let (b, c, d) = (h.f32(256), h.f32(260), h.f32(264));
        let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
        let qfac = if h.f32(76) < 0.0 { -1.0 } else { 1.0 };
        let r = [
            [
                a * a + b * b - c * c - d * d,
                2.0 * (b * c - a * d),
                2.0 * (b * d + a * c),
            ],
            [
                2.0 * (b * c + a * d),
                a * a + c * c - b * b - d * d,
                2.0 * (c * d - a * b),
            ],
            [
                2.0 * (b * d - a * c),
                2.0 * (c * d + a * b),
                a * a + d * d - c * c - b * b,
            ],
        ];
        let scale = [pix[0], pix[1], qfac * pix[2]];
        let offset = [h.f32(268), h.f32(272), h.f32(276)];
        let mut m = [[0.0; 4]; 3];
        for row in 0..3 {
            for col in 0..3 {
                m[row][col] = r[row][col] * scale[col];
            }
            m[row][3] = offset[row];
        }
        return finite(m, "qform");
    }
    let m = [
        [pix[0], 0.0, 0.0, 0.0],
        [0.0, pix[1], 0.0, 0.0],
        [0.0, 0.0, pix[2], 0.0],
    ];
    finite(m, "pixdim")
}

fn finite(
    m: [[f64; 4]; 3],
    name: &'static str,
) -> Result<([[f64; 4]; 3], &'static str), ErrorKind> {
    if m.iter().flatten().all(|v| v.is_finite()) && det3(&m).abs() > 1e-12 {
        Ok((m, name))
    } else {
        Err(bad(format!("{name} transform is singular or not finite")))
    }
}

fn det3(m: &[[f64; 4]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// Inverse of the linear part, by the adjugate.
fn inverse3(m: &[[f64; 4]; 3]) -> [[f64; 3]; 3] {
    let d = det3(m);
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [c(1, 1, 2, 2) / d, -c(0, 1, 2, 2) / d, c(0, 1, 1, 2) / d],
        [-c(1, 0, 2, 2) / d, c(0, 0, 2, 2) / d, -c(0, 0, 1, 2) / d],
        [c(1, 0, 2, 1) / d, -c(0, 0, 2, 1) / d, c(0, 0, 1, 1) / d],
    ]
}

impl NiftiImage {
    /// LPS position (mm) of voxel centre (i, j, k).
    pub fn position_mm(&self, ijk: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|r| {
            let m = &self.affine_lps[r];
            m[0] * ijk[0] + m[1] * ijk[1] + m[2] * ijk[2] + m[3]
        })
    }

    /// Puts the mask on the PET grid (see the module documentation).
    pub fn on_grid(&self, grid: &Volume) -> Result<GridMask, ErrorKind> {
        let mut warnings = Vec::new();
        if self.transform == "pixdim" {
            warnings.push("NIfTI has neither sform nor qform: pixdim scaling only".into());
        }
        let [nx, ny, nz] = grid.dims;
        let tolerance = 0.05
            * grid
                .spacing_mm
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min);
        let same_grid = self.dims == grid.dims
            && corners(grid.dims).iter().all(|c| {
                let a = self.position_mm(*c);
                let b = grid.position_mm(c[0], c[1], c[2]);
                (0..3).all(|x| (a[x] - b[x]).abs() <= tolerance)
            });
        if same_grid {
            let inside = self.data.iter().map(|v| *v != 0.0).collect();
            return Ok(GridMask { inside, warnings });
        }
        warnings.push(format!(
            "NIfTI grid {:?} differs from the PET grid {:?}: mask resampled by nearest voxel \
             through its {}",
            self.dims, grid.dims, self.transform
        ));
        let inv = inverse3(&self.affine_lps);
        let mut inside = vec![false; grid.len()];
        let mut any = false;
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    let p = grid.position_mm(i as f64, j as f64, k as f64);
                    let d: [f64; 3] = std::array::from_fn(|r| p[r] - self.affine_lps[r][3]);
                    let ijk: [f64; 3] = std::array::from_fn(|r| {
                        inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2]
                    });
                    let idx: Option<Vec<usize>> = ijk
                        .iter()
                        .zip(self.dims.iter())
                        .map(|(v, n)| {
                            let r = v.round();
                            (r >= 0.0 && r < *n as f64).then_some(r as usize)
                        })
                        .collect();
                    if let Some(m) = idx {
                        let value = self.data
                            [m[0] + m[1] * self.dims[0] + m[2] * self.dims[0] * self.dims[1]];
                        if value != 0.0 {
                            inside[grid.index(i, j, k)] = true;
                            any = true;
                        }
                    }
                }
            }
        }
        if !any {
            return Err(bad("the mask does not overlap the PET volume"));
        }
        Ok(GridMask { inside, warnings })
    }
}

fn corners(dims: [usize; 3]) -> Vec<[f64; 3]> {
    let mut out = Vec::with_capacity(8);
    for k in [0, dims[2].saturating_sub(1)] {
        for j in [0, dims[1].saturating_sub(1)] {
            for i in [0, dims[0].saturating_sub(1)] {
                out.push([i as f64, j as f64, k as f64]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal little-endian NIfTI-1 with an sform (RAS), u8 data.
    fn tiny(dims: [i16; 3], srow: [[f32; 4]; 3], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 352];
        b[0..4].copy_from_slice(&348i32.to_le_bytes());
        b[40..42].copy_from_slice(&3i16.to_le_bytes());
        for (a, d) in dims.iter().enumerate() {
            b[42 + 2 * a..44 + 2 * a].copy_from_slice(&d.to_le_bytes());
        }
        b[70..72].copy_from_slice(&2i16.to_le_bytes());
        b[108..112].copy_from_slice(&352f32.to_le_bytes());
        b[254..256].copy_from_slice(&1i16.to_le_bytes());
        for (r, row) in srow.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                b[280 + 16 * r + 4 * c..284 + 16 * r + 4 * c].copy_from_slice(&v.to_le_bytes());
            }
        }
        b[344..348].copy_from_slice(b"n+1\0");
        b.extend_from_slice(data);
        b
    }

    fn grid(dims: [usize; 3], spacing: f64) -> Volume {
        Volume {
            dims,
            spacing_mm: [spacing; 3],
            origin_mm: [0.0; 3],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![0.0; dims.iter().product()],
        }
    }

    #[test]
    fn ras_sform_matching_the_lps_grid_maps_voxel_for_voxel() {
        let srow = [
            [-4.0, 0.0, 0.0, 0.0],
            [0.0, -4.0, 0.0, 0.0],
            [0.0, 0.0, 4.0, 0.0],
        ];
        let img = parse_nifti(&tiny([2, 2, 1], srow, &[0, 1, 0, 1])).unwrap();
        assert_eq!(img.position_mm([1.0, 1.0, 0.0]), [4.0, 4.0, 0.0]);
        let m = img.on_grid(&grid([2, 2, 1], 4.0)).unwrap();
        assert_eq!(m.inside, vec![false, true, false, true]);
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn coarser_mask_is_resampled_by_nearest_voxel() {
        // Mask of 8 mm voxels, PET of 4 mm voxels: each mask voxel covers 2×2 PET voxels.
        let srow = [
            [-8.0, 0.0, 0.0, 0.0],
            [0.0, -8.0, 0.0, 0.0],
            [0.0, 0.0, 4.0, 0.0],
        ];
        let img = parse_nifti(&tiny([2, 1, 1], srow, &[1, 0])).unwrap();
        let m = img.on_grid(&grid([4, 1, 1], 4.0)).unwrap();
        // PET x = 0, 4 → mask i = 0, 0.5 (rounds to 1: ties away from zero), …
        assert_eq!(m.inside, vec![true, false, false, false]);
        assert_eq!(m.warnings.len(), 1);
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        let srow = [
            [-4.0, 0.0, 0.0, 0.0],
            [0.0, -4.0, 0.0, 0.0],
            [0.0, 0.0, 4.0, 0.0],
        ];
        let full = tiny([2, 2, 1], srow, &[0, 1, 0, 1]);
        let err = parse_nifti(&full[..354]).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        assert!(parse_nifti(b"plain text").is_err());
        let mut wrong = full.clone();
        wrong[344..348].copy_from_slice(b"abcd");
        assert!(
            parse_nifti(&wrong)
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
    }
}
