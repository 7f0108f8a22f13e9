//! RT Structure Set ROIs (PS3.3 C.8.8.5–C.8.8.6) rasterised onto a PET grid.
//!
//! Only `CLOSED_PLANAR` contours are used (points, open contours are skipped with a warning).
//! Each contour's points are taken to the grid's continuous voxel coordinates; the contour
//! belongs to the slice nearest its mean slice coordinate, and must lie within a quarter slice
//! of that slice's centre plane (else a warning). On its slice, a voxel is inside when its
//! centre is inside the polygon by the even–odd crossing rule (a horizontal ray from the
//! centre, half-open on vertex rows). Several contours on one slice combine by even–odd too,
//! so a contour drawn inside another is a hole (the usual reading of nested RTSTRUCT
//! contours).

use std::collections::BTreeMap;
use std::path::Path;

use dicom_object::InMemDicomObject;

use crate::error::{ErrorKind, PetError};
use crate::series::attr::{self, Attr, attr};
use crate::series::open::open_dicom;
use crate::volume::Volume;

const MODALITY: Attr = attr("Modality", 0x0008, 0x0060);
const STRUCTURE_SET_ROI_SEQ: Attr = attr("StructureSetROISequence", 0x3006, 0x0020);
const ROI_NUMBER: Attr = attr("ROINumber", 0x3006, 0x0022);
const ROI_NAME: Attr = attr("ROIName", 0x3006, 0x0026);
const ROI_CONTOUR_SEQ: Attr = attr("ROIContourSequence", 0x3006, 0x0039);
const REFERENCED_ROI_NUMBER: Attr = attr("ReferencedROINumber", 0x3006, 0x0084);
const CONTOUR_SEQ: Attr = attr("ContourSequence", 0x3006, 0x0040);
const CONTOUR_GEOMETRIC_TYPE: Attr = attr("ContourGeometricType", 0x3006, 0x0042);
const CONTOUR_DATA: Attr = attr("ContourData", 0x3006, 0x0050);

/// One ROI of a structure set: its planar contours in patient coordinates (mm, LPS).
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// ROINumber (3006,0022).
    pub number: i64,
    /// ROIName (3006,0026).
    pub name: String,
    /// CLOSED_PLANAR contours, each a list of points.
    pub contours: Vec<Vec<[f64; 3]>>,
    /// Contours skipped (not CLOSED_PLANAR, fewer than 3 points).
    pub skipped: usize,
}

/// The ROIs of an RT Structure Set file, in ROINumber order.
pub fn read_rtstruct(path: &Path) -> Result<Vec<Roi>, PetError> {
    let at = |kind| PetError::at(path, kind);
    let obj = open_dicom(path).map_err(at)?;
    parse(&obj).map_err(at)
}

fn parse(obj: &InMemDicomObject) -> Result<Vec<Roi>, ErrorKind> {
    match attr::text(obj, MODALITY)?.as_deref() {
        Some("RTSTRUCT") => {}
        other => {
            return Err(ErrorKind::RtStruct(format!(
                "Modality (0008,0060) is {other:?}, not \"RTSTRUCT\""
            )));
        }
    }
    let mut rois: BTreeMap<i64, Roi> = BTreeMap::new();
    for item in attr::items(obj, STRUCTURE_SET_ROI_SEQ)? {
        let number = roi_number(item, ROI_NUMBER)?;
        let name = attr::text(item, ROI_NAME)?.unwrap_or_default();
        rois.insert(
            number,
            Roi {
                number,
                name,
                contours: Vec::new(),
                skipped: 0,
            },
        );
    }
    for item in attr::items(obj, ROI_CONTOUR_SEQ)? {
        let number = roi_number(item, REFERENCED_ROI_NUMBER)?;
        let roi = rois.get_mut(&number).ok_or_else(|| {
            ErrorKind::RtStruct(format!(
                "ReferencedROINumber (3006,0084) {number} is not in StructureSetROISequence"
            ))
        })?;
        for contour in attr::items(item, CONTOUR_SEQ)? {
            let kind = attr::text(contour, CONTOUR_GEOMETRIC_TYPE)?;
            let data = attr::numbers(contour, CONTOUR_DATA)?.unwrap_or_default();
            if kind.as_deref() != Some("CLOSED_PLANAR") || data.len() < 9 || data.len() % 3 != 0 {
                roi.skipped += 1;
                continue;
            }
            roi.contours
                .push(data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect());
        }
    }
    Ok(rois.into_values().collect())
}

fn roi_number(item: &InMemDicomObject, a: Attr) -> Result<i64, ErrorKind> {
    attr::number(item, a)?
        .map(|v| v as i64)
        .ok_or_else(|| ErrorKind::MissingTag(a.to_string()))
}

/// Picks the ROI named `name` (case-insensitive), or the only ROI when `name` is `None`.
pub fn select<'a>(rois: &'a [Roi], name: Option<&str>) -> Result<&'a Roi, ErrorKind> {
    let names: Vec<&str> = rois.iter().map(|r| r.name.as_str()).collect();
    match name {
        Some(n) => rois
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(n))
            .ok_or_else(|| ErrorKind::RtStruct(format!("no ROI named {n:?}; ROIs: {names:?}"))),
        None if rois.len() == 1 => Ok(&rois[0]),
        None => Err(ErrorKind::RtStruct(format!(
            "{} ROIs, name one with --roi: {names:?}",
            rois.len()
        ))),
    }
}

/// Rasterises `roi` on `grid` (see the module documentation). Returns the mask and warnings.
pub fn rasterise(roi: &Roi, grid: &Volume) -> Result<(Vec<bool>, Vec<String>), ErrorKind> {
    let mut warnings = Vec::new();
    if roi.skipped > 0 {
        warnings.push(format!(
            "ROI {:?}: {} contour(s) not CLOSED_PLANAR or under 3 points, skipped",
            roi.name, roi.skipped
        ));
    }
    let [nx, ny, nz] = grid.dims;
    let mut inside = vec![false; grid.len()];
    let mut off_grid = 0usize;
    for contour in &roi.contours {
        let pts: Vec<[f64; 3]> = contour.iter().map(|p| to_voxel(grid, *p)).collect();
        let mean_k = pts.iter().map(|p| p[2]).sum::<f64>() / pts.len() as f64;
        let k = mean_k.round();
        if !(0.0..nz as f64).contains(&k) {
            off_grid += 1;
            continue;
        }
        if pts.iter().any(|p| (p[2] - k).abs() > 0.25) {
            warnings.push(format!(
                "ROI {:?}: a contour is not on a slice plane (slice {k}); rasterised on the \
                 nearest slice",
                roi.name
            ));
        }
        let k = k as usize;
        let (lo, hi) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p[1]), hi.max(p[1]))
            });
        let (left, right) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p[0]), b.max(p[0]))
            });
        let j0 = lo.ceil().max(0.0) as usize;
        let j1 = (hi.floor().min(ny as f64 - 1.0)).max(-1.0);
        let i0 = left.ceil().max(0.0) as usize;
        let i1 = (right.floor().min(nx as f64 - 1.0)).max(-1.0);
        if j1 < 0.0 || i1 < 0.0 {
            continue;
        }
        for j in j0..=j1 as usize {
            for i in i0..=i1 as usize {
                if point_in_polygon(i as f64, j as f64, &pts) {
                    let idx = grid.index(i, j, k);
                    inside[idx] = !inside[idx];
                }
            }
        }
    }
    if off_grid > 0 {
        warnings.push(format!(
            "ROI {:?}: {off_grid} contour(s) outside the PET volume, ignored",
            roi.name
        ));
    }
    if !inside.iter().any(|v| *v) {
        return Err(ErrorKind::RtStruct(format!(
            "ROI {:?} covers no PET voxel centre",
            roi.name
        )));
    }
    Ok((inside, warnings))
}

/// Patient position (mm) → continuous voxel coordinates (i, j, k) of `grid`.
/// The grid axes are orthonormal, so the inverse is a projection on each axis.
fn to_voxel(grid: &Volume, p: [f64; 3]) -> [f64; 3] {
    let d: [f64; 3] = std::array::from_fn(|c| p[c] - grid.origin_mm[c]);
    std::array::from_fn(|axis| {
        let u = grid.direction[axis];
        (d[0] * u[0] + d[1] * u[1] + d[2] * u[2]) / grid.spacing_mm[axis]
    })
}

/// Even–odd rule: does a ray from (x, y) towards +x cross the polygon an odd number of times?
/// Edges are half-open in y, so a vertex on the ray's row is counted once.
fn point_in_polygon(x: f64, y: f64, poly: &[[f64; 3]]) -> bool {
    let mut inside = false;
    let mut prev = poly[poly.len() - 1];
    for cur in poly {
        if (cur[1] > y) != (prev[1] > y) {
            let t = (y - prev[1]) / (cur[1] - prev[1]);
            if x < prev[0] + t * (cur[0] - prev[0]) {
                inside = !inside;
            }
        }
        prev = *cur;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_contour_with_a_hole_covers_the_ring() {
        let grid = Volume {
            dims: [6, 6, 1],
            spacing_mm: [2.0, 2.0, 2.0],
            origin_mm: [0.0, 0.0, 0.0],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            data: vec![0.0; 36],
        };
        let square = |a: f64, b: f64| vec![[a, a, 0.0], [b, a, 0.0], [b, b, 0.0], [a, b, 0.0]];
        let roi = Roi {
            number: 1,
            name: "ring".into(),
            // Outer: voxel centres 1..=4 (2..8 mm); inner: centres 2..=3 (4..6 mm).
            contours: vec![square(1.0, 9.0), square(3.0, 7.0)],
            skipped: 0,
        };
        let (mask, warnings) = rasterise(&roi, &grid).unwrap();
        assert_eq!(mask.iter().filter(|v| **v).count(), 16 - 4);
        assert!(mask[grid.index(1, 1, 0)] && !mask[grid.index(2, 2, 0)]);
        assert!(warnings.is_empty());
    }
}
