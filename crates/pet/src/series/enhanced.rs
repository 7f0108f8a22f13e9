//! The frames of an Enhanced PET Image (PS3.3 A.56): one file holds every slice of a series
//! as a frame, and what a single-frame PET image says at its top level each frame says in
//! its functional groups (PS3.3 C.7.6.16).
//!
//! Each functional group macro is one sequence with one item, found in the frame's own item
//! of PerFrameFunctionalGroupsSequence (5200,9230) or, when it is the same for every frame,
//! in SharedFunctionalGroupsSequence (5200,9229); the frame's own item is looked at first.
//!
//! | of each frame | in the functional group |
//! |---|---|
//! | ImagePositionPatient (0020,0032) | PlanePositionSequence (0020,9113), required |
//! | ImageOrientationPatient (0020,0037) | PlaneOrientationSequence (0020,9116), required |
//! | PixelSpacing (0028,0030), SliceThickness (0018,0050) | PixelMeasuresSequence (0028,9110), spacing required |
//! | RescaleSlope, RescaleIntercept (0028,1053/1052) | PixelValueTransformationSequence (0028,9145), required: the macro is mandatory in this IOD (PS3.3 A.56.4), and a frame without it has no known scale |
//! | timing and units for the SUV | FrameContentSequence (0020,9111), RealWorldValueMappingSequence (0040,9096): see [`SuvHeader::for_frame`] |
//!
//! Rows, Columns and the sample layout are the file's, shared by every frame. NumberOfFrames
//! (0028,0008) must equal the number of items of PerFrameFunctionalGroupsSequence; that it
//! also matches the length of the pixel data is checked where the pixels are (the fast
//! path, or the decoded pixels). A frame missing what it needs makes the whole file
//! unreadable, with the frame and the attribute named: a series is never read with a
//! slice left out.

use super::attr::{self, Attr, AttrSource, attr};
use super::head::{
    IMAGE_POSITION, ImageHead, NUMBER_OF_FRAMES, RESCALE_INTERCEPT, RESCALE_SLOPE, SLICE_THICKNESS,
    check_slope, grid, orientation, sample_layout, spacing,
};
use crate::error::ErrorKind;
use crate::suv::header::SuvHeader;

/// SharedFunctionalGroupsSequence (5200,9229).
pub(super) const SHARED_GROUPS: Attr = attr("SharedFunctionalGroupsSequence", 0x5200, 0x9229);
/// PerFrameFunctionalGroupsSequence (5200,9230).
pub(super) const PER_FRAME_GROUPS: Attr = attr("PerFrameFunctionalGroupsSequence", 0x5200, 0x9230);
const PLANE_POSITION: Attr = attr("PlanePositionSequence", 0x0020, 0x9113);
const PLANE_ORIENTATION: Attr = attr("PlaneOrientationSequence", 0x0020, 0x9116);
const PIXEL_MEASURES: Attr = attr("PixelMeasuresSequence", 0x0028, 0x9110);
const PIXEL_VALUE_TRANSFORMATION: Attr = attr("PixelValueTransformationSequence", 0x0028, 0x9145);
const RESCALE_TYPE: Attr = attr("RescaleType", 0x0028, 0x1054);
const FRAME_CONTENT: Attr = attr("FrameContentSequence", 0x0020, 0x9111);
const REAL_WORLD_VALUE_MAPPING: Attr = attr("RealWorldValueMappingSequence", 0x0040, 0x9096);

/// One frame of an enhanced image, its pixels not read.
pub(super) struct Frame {
    /// Frame number, from 1 (PS3.3 C.7.6.16.1).
    pub number: u32,
    /// Grid, geometry, rescale and sample layout.
    pub head: ImageHead,
    /// SliceThickness (0018,0050) of its Pixel Measures.
    pub slice_thickness_mm: Option<f64>,
    /// Its SUV attributes: the image's, with the frame's timing and units.
    pub suv: SuvHeader,
}

/// The frames of the enhanced image `obj`, in the order of its pixel data.
pub(super) fn frames<D>(obj: &D) -> Result<Vec<Frame>, ErrorKind>
where
    D: AttrSource + ?Sized,
    D::Item: AttrSource<Item = D::Item>,
{
    let count = frame_count(obj)?;
    let (rows, columns) = grid(obj)?;
    let layout = sample_layout(obj, rows, columns)?;
    let per_frame = attr::items(obj, PER_FRAME_GROUPS)?;
    if per_frame.len() != count {
        return Err(ErrorKind::BadTag {
            tag: PER_FRAME_GROUPS.to_string(),
            problem: format!(
                "{} items, while {NUMBER_OF_FRAMES} is {count}: one item per frame",
                per_frame.len()
            ),
        });
    }
    let shared = attr::items(obj, SHARED_GROUPS)?.first();
    let image_suv = SuvHeader::read_enhanced(obj);
    per_frame
        .iter()
        .enumerate()
        .map(|(k, own)| {
            let groups = Groups {
                number: k as u32 + 1,
                own,
                shared,
            };
            let position = groups.read(PLANE_POSITION, |item| {
                let p = attr::numbers_n(item, IMAGE_POSITION, 3)?;
                Ok([p[0], p[1], p[2]])
            })?;
            let orientation = groups.read(PLANE_ORIENTATION, orientation)?;
            let (spacing, slice_thickness_mm) = groups.read(PIXEL_MEASURES, |item| {
                let thickness = attr::number(item, SLICE_THICKNESS).ok().flatten();
                Ok((spacing(item)?, thickness))
            })?;
            let (slope, intercept, rescale_type) =
                groups.read(PIXEL_VALUE_TRANSFORMATION, rescale)?;
            let content = groups.item(FRAME_CONTENT)?;
            // Unlike the other macros, this one may hold several items (one per mapping).
            let mappings = groups.all_items(REAL_WORLD_VALUE_MAPPING)?;
            let suv = image_suv.for_frame(
                content,
                mappings,
                (slope, intercept),
                rescale_type.as_deref(),
            );
            Ok(Frame {
                number: groups.number,
                head: ImageHead {
                    rows,
                    columns,
                    position,
                    orientation,
                    spacing,
                    slope,
                    intercept,
                    layout,
                },
                slice_thickness_mm,
                suv,
            })
        })
        .collect()
}

/// NumberOfFrames (0028,0008): required, a whole number from 1 (IS, read as an integer as
/// the pixel decoder reads it).
fn frame_count<D: AttrSource + ?Sized>(obj: &D) -> Result<usize, ErrorKind> {
    let text = attr::text(obj, NUMBER_OF_FRAMES)?
        .ok_or_else(|| ErrorKind::MissingTag(NUMBER_OF_FRAMES.to_string()))?;
    match text.parse::<i32>() {
        Ok(n) if n >= 1 => Ok(n as usize),
        _ => Err(ErrorKind::BadTag {
            tag: NUMBER_OF_FRAMES.to_string(),
            problem: format!("{text:?} is not a whole number of frames from 1"),
        }),
    }
}

/// RescaleSlope and RescaleIntercept (both required in this macro) and RescaleType.
fn rescale<I: AttrSource + ?Sized>(item: &I) -> Result<(f64, f64, Option<String>), ErrorKind> {
    let required =
        |a: Attr| attr::number(item, a)?.ok_or_else(|| ErrorKind::MissingTag(a.to_string()));
    let slope = required(RESCALE_SLOPE)?;
    let intercept = required(RESCALE_INTERCEPT)?;
    check_slope(slope)?;
    Ok((slope, intercept, attr::text(item, RESCALE_TYPE)?))
}

/// The functional groups of one frame.
struct Groups<'a, I> {
    /// Frame number, from 1.
    number: u32,
    /// The frame's item of PerFrameFunctionalGroupsSequence.
    own: &'a I,
    /// The item of SharedFunctionalGroupsSequence.
    shared: Option<&'a I>,
}

impl<'a, I: AttrSource<Item = I>> Groups<'a, I> {
    /// The items of macro `seq`, from the first group (the frame's own, then the shared one)
    /// where it has any.
    fn all_items(&self, seq: Attr) -> Result<&'a [I], ErrorKind> {
        for group in [Some(self.own), self.shared].into_iter().flatten() {
            let items = attr::items(group, seq).map_err(|e| self.within(None, e))?;
            if !items.is_empty() {
                return Ok(items);
            }
        }
        Ok(&[])
    }

    /// The (single) item of macro `seq`, if the frame has one.
    fn item(&self, seq: Attr) -> Result<Option<&'a I>, ErrorKind> {
        Ok(self.all_items(seq)?.first())
    }

    /// What `read` finds in the required macro `seq`; its errors name the macro and frame.
    fn read<T>(
        &self,
        seq: Attr,
        read: impl FnOnce(&'a I) -> Result<T, ErrorKind>,
    ) -> Result<T, ErrorKind> {
        let item = self.item(seq)?.ok_or_else(|| {
            ErrorKind::MissingTag(format!(
                "{seq} of frame {}: neither in its item of {PER_FRAME_GROUPS} nor in \
                 {SHARED_GROUPS}",
                self.number
            ))
        })?;
        read(item).map_err(|e| self.within(Some(seq), e))
    }

    /// `e` about an attribute of macro `seq` (or the macro itself) of this frame.
    fn within(&self, seq: Option<Attr>, e: ErrorKind) -> ErrorKind {
        let place = |tag: String| match seq {
            Some(seq) => format!("{seq} > {tag} of frame {}", self.number),
            None => format!("{tag} of frame {}", self.number),
        };
        match e {
            ErrorKind::MissingTag(tag) => ErrorKind::MissingTag(place(tag)),
            ErrorKind::BadTag { tag, problem } => ErrorKind::BadTag {
                tag: place(tag),
                problem,
            },
            other => other,
        }
    }
}
