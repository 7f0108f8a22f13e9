//! What the header of a PET image says: its SOP class, grid, geometry and rescale, checked
//! in a fixed order so that both readers of a file report the same first problem. The
//! checks of one value (orientation, spacing, slope) serve the frames of an enhanced image
//! too (module `enhanced`).

use std::path::Path;

use super::attr::{self, Attr, AttrSource, attr};
use super::instance::PetInstance;
use super::pixels::SampleLayout;
use crate::error::ErrorKind;
use crate::suv::header::SuvHeader;

const MODALITY: Attr = attr("Modality", 0x0008, 0x0060);
const SOP_CLASS_UID: Attr = attr("SOPClassUID", 0x0008, 0x0016);
const SOP_INSTANCE_UID: Attr = attr("SOPInstanceUID", 0x0008, 0x0018);
const SERIES_INSTANCE_UID: Attr = attr("SeriesInstanceUID", 0x0020, 0x000E);
const INSTANCE_NUMBER: Attr = attr("InstanceNumber", 0x0020, 0x0013);
pub(super) const IMAGE_POSITION: Attr = attr("ImagePositionPatient", 0x0020, 0x0032);
pub(super) const IMAGE_ORIENTATION: Attr = attr("ImageOrientationPatient", 0x0020, 0x0037);
pub(super) const PIXEL_SPACING: Attr = attr("PixelSpacing", 0x0028, 0x0030);
pub(super) const SLICE_THICKNESS: Attr = attr("SliceThickness", 0x0018, 0x0050);
const ROWS: Attr = attr("Rows", 0x0028, 0x0010);
const COLUMNS: Attr = attr("Columns", 0x0028, 0x0011);
pub(super) const NUMBER_OF_FRAMES: Attr = attr("NumberOfFrames", 0x0028, 0x0008);
const BITS_ALLOCATED: Attr = attr("BitsAllocated", 0x0028, 0x0100);
const BITS_STORED: Attr = attr("BitsStored", 0x0028, 0x0101);
const PIXEL_REPRESENTATION: Attr = attr("PixelRepresentation", 0x0028, 0x0103);
pub(super) const RESCALE_INTERCEPT: Attr = attr("RescaleIntercept", 0x0028, 0x1052);
pub(super) const RESCALE_SLOPE: Attr = attr("RescaleSlope", 0x0028, 0x1053);
const PIXEL_DATA: Attr = attr("PixelData", 0x7FE0, 0x0010);

/// PET Image Storage (PS3.4 B.5).
pub const PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.128";
/// Enhanced PET Image Storage: multi-frame with functional groups.
pub const ENHANCED_PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.130";
/// Legacy Converted Enhanced PET Image Storage.
pub const LEGACY_ENHANCED_PET_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.128.1";

/// How a PET object holds its images, from its SOP class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Storage {
    /// PET Image Storage: one image per file.
    Single,
    /// Enhanced PET Image Storage: one image per frame, described by functional groups.
    Enhanced,
}

/// Refuses objects that are not PET images this reader reads, with the reason; says how
/// the others hold their images.
pub(super) fn check_pet<D: AttrSource + ?Sized>(obj: &D) -> Result<Storage, ErrorKind> {
    let modality = attr::text(obj, MODALITY)?;
    let sop_class = attr::text(obj, SOP_CLASS_UID)?;
    let storage = match sop_class.as_deref() {
        Some(ENHANCED_PET_IMAGE_STORAGE) => Storage::Enhanced,
        Some(LEGACY_ENHANCED_PET_IMAGE_STORAGE) => {
            return Err(ErrorKind::NotPet(format!(
                "SOPClassUID (0008,0016) {LEGACY_ENHANCED_PET_IMAGE_STORAGE} is a Legacy \
                 Converted Enhanced PET image, whose PET attributes this reader does not look \
                 for; export the series as PET Image Storage ({PET_IMAGE_STORAGE}) or Enhanced \
                 PET Image Storage ({ENHANCED_PET_IMAGE_STORAGE})"
            )));
        }
        Some(PET_IMAGE_STORAGE) | None => Storage::Single,
        Some(other) => {
            return Err(ErrorKind::NotPet(format!(
                "SOPClassUID (0008,0016) is {other}, not PET Image Storage ({PET_IMAGE_STORAGE}) \
                 or Enhanced PET Image Storage ({ENHANCED_PET_IMAGE_STORAGE})"
            )));
        }
    };
    match modality.as_deref() {
        Some("PT") => Ok(storage),
        Some(other) => Err(ErrorKind::NotPet(format!(
            "Modality (0008,0060) is {other:?}, not \"PT\""
        ))),
        None => Err(ErrorKind::MissingTag(MODALITY.to_string())),
    }
}

fn positive_count<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<usize, ErrorKind> {
    let v = attr::number(obj, a)?.ok_or_else(|| ErrorKind::MissingTag(a.to_string()))?;
    if v < 1.0 || v.fract() != 0.0 || v > 65535.0 {
        return Err(ErrorKind::BadTag {
            tag: a.to_string(),
            problem: format!("{v} is not a positive whole number"),
        });
    }
    Ok(v as usize)
}

/// An image's grid, geometry, rescale and sample layout.
pub(super) struct ImageHead {
    pub(super) rows: usize,
    pub(super) columns: usize,
    pub(super) position: [f64; 3],
    pub(super) orientation: [f64; 6],
    pub(super) spacing: [f64; 2],
    pub(super) slope: f64,
    pub(super) intercept: f64,
    pub(super) layout: SampleLayout,
}

/// Frames, grid, geometry, rescale and sample layout, checked in this order.
pub(super) fn image_head<D: AttrSource + ?Sized>(obj: &D) -> Result<ImageHead, ErrorKind> {
    let frames = attr::number(obj, NUMBER_OF_FRAMES)?.unwrap_or(1.0);
    if frames != 1.0 {
        return Err(ErrorKind::BadTag {
            tag: NUMBER_OF_FRAMES.to_string(),
            problem: format!("{frames} frames; only single-frame PET images are read"),
        });
    }
    let (rows, columns) = grid(obj)?;
    let position = attr::numbers_n(obj, IMAGE_POSITION, 3)?;
    let orientation = orientation(obj)?;
    let spacing = spacing(obj)?;
    let slope = attr::number(obj, RESCALE_SLOPE)?.unwrap_or(1.0);
    let intercept = attr::number(obj, RESCALE_INTERCEPT)?.unwrap_or(0.0);
    check_slope(slope)?;
    let layout = sample_layout(obj, rows, columns)?;
    Ok(ImageHead {
        rows,
        columns,
        position: [position[0], position[1], position[2]],
        orientation,
        spacing,
        slope,
        intercept,
        layout,
    })
}

/// Rows (0028,0010) and Columns (0028,0011).
pub(super) fn grid<D: AttrSource + ?Sized>(obj: &D) -> Result<(usize, usize), ErrorKind> {
    Ok((positive_count(obj, ROWS)?, positive_count(obj, COLUMNS)?))
}

/// ImageOrientationPatient (0020,0037) of `obj`, checked.
pub(super) fn orientation<D: AttrSource + ?Sized>(obj: &D) -> Result<[f64; 6], ErrorKind> {
    let orientation = attr::numbers_n(obj, IMAGE_ORIENTATION, 6)?;
    let orientation: [f64; 6] = std::array::from_fn(|i| orientation[i]);
    check_orientation(&orientation)?;
    Ok(orientation)
}

/// PixelSpacing (0028,0030) of `obj`, both positive.
pub(super) fn spacing<D: AttrSource + ?Sized>(obj: &D) -> Result<[f64; 2], ErrorKind> {
    let spacing = attr::numbers_n(obj, PIXEL_SPACING, 2)?;
    if spacing.iter().any(|s| *s <= 0.0) {
        return Err(ErrorKind::BadTag {
            tag: PIXEL_SPACING.to_string(),
            problem: format!("{spacing:?} must be positive"),
        });
    }
    Ok([spacing[0], spacing[1]])
}

/// A RescaleSlope (0028,1053) of 0 would map every pixel to the intercept.
pub(super) fn check_slope(slope: f64) -> Result<(), ErrorKind> {
    if slope == 0.0 {
        return Err(ErrorKind::BadTag {
            tag: RESCALE_SLOPE.to_string(),
            problem: "slope 0 would erase the image".into(),
        });
    }
    Ok(())
}

/// The layout of the samples of a `rows` × `columns` frame; PixelData must be present.
pub(super) fn sample_layout<D: AttrSource + ?Sized>(
    obj: &D,
    rows: usize,
    columns: usize,
) -> Result<SampleLayout, ErrorKind> {
    if !obj.contains(PIXEL_DATA.tag) {
        return Err(ErrorKind::MissingTag(PIXEL_DATA.to_string()));
    }
    let bits_allocated = positive_count(obj, BITS_ALLOCATED)? as u16;
    Ok(SampleLayout {
        pixels: rows * columns,
        bits_allocated,
        bits_stored: attr::number(obj, BITS_STORED)?.map_or(bits_allocated, |v| v as u16),
        signed: attr::number(obj, PIXEL_REPRESENTATION)?.unwrap_or(0.0) == 1.0,
    })
}

/// The rest of a single-frame image's attributes, read after its pixels.
pub(super) fn finish<D: AttrSource + ?Sized>(
    path: &Path,
    obj: &D,
    head: &ImageHead,
    pixels: Vec<f32>,
) -> Result<PetInstance, ErrorKind> {
    let identity = Identity::read(obj)?;
    let thickness = attr::number(obj, SLICE_THICKNESS).ok().flatten();
    Ok(identity.image(path, head, None, thickness, SuvHeader::read(obj), pixels))
}

/// What every image of one file shares: the object's identity.
pub(super) struct Identity {
    sop_instance_uid: String,
    series_instance_uid: String,
    instance_number: Option<i64>,
}

impl Identity {
    /// SOPInstanceUID and SeriesInstanceUID (required), InstanceNumber.
    pub(super) fn read<D: AttrSource + ?Sized>(obj: &D) -> Result<Self, ErrorKind> {
        Ok(Self {
            sop_instance_uid: attr::text_req(obj, SOP_INSTANCE_UID)?,
            series_instance_uid: attr::text_req(obj, SERIES_INSTANCE_UID)?,
            instance_number: attr::number(obj, INSTANCE_NUMBER)
                .ok()
                .flatten()
                .map(|v| v as i64),
        })
    }

    /// The image of this object described by `head` (frame `frame` of an enhanced one).
    pub(super) fn image(
        &self,
        path: &Path,
        head: &ImageHead,
        frame: Option<u32>,
        slice_thickness_mm: Option<f64>,
        suv: SuvHeader,
        pixels: Vec<f32>,
    ) -> PetInstance {
        PetInstance {
            path: path.to_path_buf(),
            sop_instance_uid: self.sop_instance_uid.clone(),
            series_instance_uid: self.series_instance_uid.clone(),
            instance_number: self.instance_number,
            frame,
            rows: head.rows,
            columns: head.columns,
            position_mm: head.position,
            orientation: head.orientation,
            pixel_spacing_mm: head.spacing,
            slice_thickness_mm,
            rescale_slope: head.slope,
            rescale_intercept: head.intercept,
            pixels,
            suv,
        }
    }
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
