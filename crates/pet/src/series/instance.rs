//! One PET image file: identity, geometry, rescale, pixels and SUV attributes.

use std::path::{Path, PathBuf};

use dicom_object::{DefaultDicomObject, InMemDicomObject};

use super::attr::{self, Attr, attr};
use super::open::open_dicom;
use super::pixels::{self, SampleLayout};
use crate::error::{ErrorKind, PetError};
use crate::suv::header::SuvHeader;

const MODALITY: Attr = attr("Modality", 0x0008, 0x0060);
const SOP_CLASS_UID: Attr = attr("SOPClassUID", 0x0008, 0x0016);
const SOP_INSTANCE_UID: Attr = attr("SOPInstanceUID", 0x0008, 0x0018);
const SERIES_INSTANCE_UID: Attr = attr("SeriesInstanceUID", 0x0020, 0x000E);
const INSTANCE_NUMBER: Attr = attr("InstanceNumber", 0x0020, 0x0013);
const IMAGE_POSITION: Attr = attr("ImagePositionPatient", 0x0020, 0x0032);
const IMAGE_ORIENTATION: Attr = attr("ImageOrientationPatient", 0x0020, 0x0037);
const PIXEL_SPACING: Attr = attr("PixelSpacing", 0x0028, 0x0030);
const SLICE_THICKNESS: Attr = attr("SliceThickness", 0x0018, 0x0050);
const ROWS: Attr = attr("Rows", 0x0028, 0x0010);
const COLUMNS: Attr = attr("Columns", 0x0028, 0x0011);
const NUMBER_OF_FRAMES: Attr = attr("NumberOfFrames", 0x0028, 0x0008);
const BITS_ALLOCATED: Attr = attr("BitsAllocated", 0x0028, 0x0100);
const BITS_STORED: Attr = attr("BitsStored", 0x0028, 0x0101);
const PIXEL_REPRESENTATION: Attr = attr("PixelRepresentation", 0x0028, 0x0103);
const RESCALE_INTERCEPT: Attr = attr("RescaleIntercept", 0x0028, 0x1052);
const RESCALE_SLOPE: Attr = attr("RescaleSlope", 0x0028, 0x1053);
const PIXEL_DATA: Attr = attr("PixelData", 0x7FE0, 0x0010);

/// PET Image Storage (PS3.4 B.5).
pub const PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.128";
/// Enhanced PET Image Storage: multi-frame with functional groups.
pub const ENHANCED_PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.130";
/// Legacy Converted Enhanced PET Image Storage.
pub const LEGACY_ENHANCED_PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.128.1";

/// One decoded single-frame PET image.
#[derive(Debug, Clone)]
pub struct PetInstance {
    /// The file it was read from.
    pub path: PathBuf,
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// InstanceNumber (0020,0013), informative only: slices are sorted by position.
    pub instance_number: Option<i64>,
    /// Rows (0028,0010).
    pub rows: usize,
    /// Columns (0028,0011).
    pub columns: usize,
    /// ImagePositionPatient (0020,0032): centre of the first pixel, mm (LPS).
    pub position_mm: [f64; 3],
    /// ImageOrientationPatient (0020,0037): row then column direction cosines.
    pub orientation: [f64; 6],
    /// PixelSpacing (0028,0030): between rows, between columns (mm).
    pub pixel_spacing_mm: [f64; 2],
    /// SliceThickness (0018,0050), mm.
    pub slice_thickness_mm: Option<f64>,
    /// RescaleSlope (0028,1053) of this slice.
    pub rescale_slope: f64,
    /// RescaleIntercept (0028,1052) of this slice.
    pub rescale_intercept: f64,
    /// Pixel values `stored × slope + intercept`, row by row.
    pub pixels: Vec<f32>,
    /// Attributes read by the SUV calculation.
    pub suv: SuvHeader,
}

/// Reads one file as a single-frame PET image.
pub fn read_instance(path: &Path) -> Result<PetInstance, PetError> {
    let at = |kind| PetError::at(path, kind);
    let obj = open_dicom(path).map_err(at)?;
    check_pet(&obj).map_err(at)?;
    read_opened(path, &obj).map_err(at)
}

/// Refuses objects that are not single-frame PET images, with the reason.
fn check_pet(obj: &InMemDicomObject) -> Result<(), ErrorKind> {
    let modality = attr::text(obj, MODALITY)?;
    let sop_class = attr::text(obj, SOP_CLASS_UID)?;
    match sop_class.as_deref() {
        Some(ENHANCED_PET_IMAGE_STORAGE) | Some(LEGACY_ENHANCED_PET_IMAGE_STORAGE) => {
            return Err(ErrorKind::NotPet(format!(
                "SOPClassUID (0008,0016) {} is an enhanced multi-frame PET image, \
                 which this reader does not support; export the series as PET Image Storage \
                 ({PET_IMAGE_STORAGE})",
                sop_class.unwrap_or_default()
            )));
        }
        Some(PET_IMAGE_STORAGE) | None => {}
        Some(other) => {
            return Err(ErrorKind::NotPet(format!(
                "SOPClassUID (0008,0016) is {other}, not PET Image Storage ({PET_IMAGE_STORAGE})"
            )));
        }
    }
    match modality.as_deref() {
        Some("PT") => Ok(()),
        Some(other) => Err(ErrorKind::NotPet(format!(
            "Modality (0008,0060) is {other:?}, not \"PT\""
        ))),
        None => Err(ErrorKind::MissingTag(MODALITY.to_string())),
    }
}

fn positive_count(obj: &InMemDicomObject, a: Attr) -> Result<usize, ErrorKind> {
    let v = attr::number(obj, a)?.ok_or_else(|| ErrorKind::MissingTag(a.to_string()))?;
    if v < 1.0 || v.fract() != 0.0 || v > 65535.0 {
        return Err(ErrorKind::BadTag {
            tag: a.to_string(),
            problem: format!("{v} is not a positive whole number"),
        });
    }
    Ok(v as usize)
}

fn read_opened(path: &Path, obj: &DefaultDicomObject) -> Result<PetInstance, ErrorKind> {
    let frames = attr::number(obj, NUMBER_OF_FRAMES)?.unwrap_or(1.0);
    if frames != 1.0 {
        return Err(ErrorKind::BadTag {
            tag: NUMBER_OF_FRAMES.to_string(),
            problem: format!("{frames} frames; only single-frame PET images are read"),
        });
    }
    let rows = positive_count(obj, ROWS)?;
    let columns = positive_count(obj, COLUMNS)?;
    let position = attr::numbers_n(obj, IMAGE_POSITION, 3)?;
    let orientation = attr::numbers_n(obj, IMAGE_ORIENTATION, 6)?;
    let orientation: [f64; 6] = std::array::from_fn(|i| orientation[i]);
    check_orientation(&orientation)?;
    let spacing = attr::numbers_n(obj, PIXEL_SPACING, 2)?;
    if spacing.iter().any(|s| *s <= 0.0) {
        return Err(ErrorKind::BadTag {
            tag: PIXEL_SPACING.to_string(),
            problem: format!("{spacing:?} must be positive"),
        });
    }
    let slope = attr::number(obj, RESCALE_SLOPE)?.unwrap_or(1.0);
    let intercept = attr::number(obj, RESCALE_INTERCEPT)?.unwrap_or(0.0);
    if slope == 0.0 {
        return Err(ErrorKind::BadTag {
            tag: RESCALE_SLOPE.to_string(),
            problem: "slope 0 would erase the image".into(),
        });
    }
    if obj.get(PIXEL_DATA.tag).is_none() {
        return Err(ErrorKind::MissingTag(PIXEL_DATA.to_string()));
    }
    let bits_allocated = positive_count(obj, BITS_ALLOCATED)? as u16;
    let layout = SampleLayout {
        pixels: rows * columns,
        bits_allocated,
        bits_stored: attr::number(obj, BITS_STORED)?.map_or(bits_allocated, |v| v as u16),
        signed: attr::number(obj, PIXEL_REPRESENTATION)?.unwrap_or(0.0) == 1.0,
    };
    let pixels = pixels::rescaled_frame(obj, layout, slope, intercept)?;
    Ok(PetInstance {
        path: path.to_path_buf(),
        sop_instance_uid: attr::text_req(obj, SOP_INSTANCE_UID)?,
        series_instance_uid: attr::text_req(obj, SERIES_INSTANCE_UID)?,
        instance_number: attr::number(obj, INSTANCE_NUMBER)
            .ok()
            .flatten()
            .map(|v| v as i64),
        rows,
        columns,
        position_mm: [position[0], position[1], position[2]],
        orientation,
        pixel_spacing_mm: [spacing[0], spacing[1]],
        slice_thickness_mm: attr::number(obj, SLICE_THICKNESS).ok().flatten(),
        rescale_slope: slope,
        rescale_intercept: intercept,
        pixels,
        suv: SuvHeader::read(obj),
    })
}

/// Row and column cosines must be unit vectors at right angles (PS3.3 C.7.6.2.1.1).
fn check_orientation(o: &[f64; 6]) -> Result<(), ErrorKind> {
    let (r, c) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let ok =
        (dot(r, r) - 1.0).abs() < 1e-3 && (dot(c, c) - 1.0).abs() < 1e-3 && dot(r, c).abs() < 1e-3;
    if ok {
        Ok(())
    } else {
        Err(ErrorKind::BadTag {
            tag: IMAGE_ORIENTATION.to_string(),
            problem: format!("{o:?} are not two orthogonal unit vectors"),
        })
    }
}
