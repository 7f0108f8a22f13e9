//! One PET image file: read quickly where it can be, by dicom-rs otherwise; its pixels
//! left in the file until they are placed.

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dicom_object::DefaultDicomObject;

use super::attr::AttrSource;
use super::enhanced::{self, PER_FRAME_GROUPS, SHARED_GROUPS};
use super::fast::{self, Stop};
use super::head::{Identity, Storage, check_pet, finish, image_head};
use super::open::open_dicom;
use super::pixels::{self, SampleLayout};
use crate::error::{ErrorKind, PetError};
use crate::suv::{ImageHeader, header::SuvHeader, image_id};

/// One decoded PET image: a single-frame file, or one frame of an enhanced multi-frame file.
#[derive(Debug, Clone)]
pub struct PetInstance {
    /// The file it was read from.
    pub path: PathBuf,
    /// SOPInstanceUID (0008,0018) of the file.
    pub sop_instance_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// InstanceNumber (0020,0013) of the file, informative only: slices are sorted by
    /// position.
    pub instance_number: Option<i64>,
    /// Frame number, from 1, in an Enhanced PET Image file; `None` for a single-frame file.
    pub frame: Option<u32>,
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

impl PetInstance {
    /// Where the image is, for messages: its file, and its frame in an enhanced file.
    pub fn location(&self) -> String {
        match self.frame {
            Some(n) => format!("{} frame {n}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }

    /// The image's SUV attributes, with which image it is.
    pub fn suv_image(&self) -> ImageHeader<'_> {
        ImageHeader {
            sop_instance_uid: &self.sop_instance_uid,
            frame: self.frame,
            header: &self.suv,
        }
    }

    /// The image in messages and keys ([`image_id`]).
    pub fn image_id(&self) -> String {
        image_id(&self.sop_instance_uid, self.frame)
    }
}

/// Bytes of a file first read for its header on the fast path; a longer header (an
/// enhanced file's functional groups) is read in steps eight times larger each.
const HEADER_PREFIX: usize = 8 * 1024;

/// Where an image's pixels are until they are placed in the volume.
#[derive(Debug)]
pub(crate) enum PixelSource {
    /// Decoded by dicom-rs, rescaled.
    Decoded(Vec<f32>),
    /// Native samples in the file, rescaled when read.
    File {
        /// Byte offset of the samples.
        offset: u64,
        /// Their length in bytes.
        len: usize,
        /// Their layout.
        layout: SampleLayout,
        /// RescaleSlope.
        slope: f64,
        /// RescaleIntercept.
        intercept: f64,
    },
}

impl PixelSource {
    /// Writes the rescaled pixels of the image read from `path` into `out`; `buf` is
    /// scratch space reused between calls.
    pub(crate) fn fill(
        &self,
        path: &Path,
        buf: &mut Vec<u8>,
        out: &mut [f32],
    ) -> Result<(), ErrorKind> {
        match self {
            Self::Decoded(pixels) if pixels.len() == out.len() => {
                out.copy_from_slice(pixels);
                Ok(())
            }
            Self::Decoded(pixels) => Err(ErrorKind::Pixels(format!(
                "{} pixels decoded, {} expected",
                pixels.len(),
                out.len()
            ))),
            Self::File {
                offset,
                len,
                layout,
                slope,
                intercept,
            } => {
                let io = |e: std::io::Error| ErrorKind::Io(e.to_string());
                let mut file = File::open(path).map_err(io)?;
                file.seek(SeekFrom::Start(*offset)).map_err(io)?;
                buf.resize(*len, 0);
                file.read_exact(buf).map_err(io)?;
                pixels::rescale_into(buf, *layout, *slope, *intercept, out)
            }
        }
    }
}

/// A PET image whose pixels are still to be placed (`inst.pixels` is empty).
#[derive(Debug)]
pub(crate) struct PendingInstance {
    /// The image without its pixels.
    pub inst: PetInstance,
    /// Where its pixels are.
    pub source: PixelSource,
}

/// Reads one single-frame PET image file (an enhanced multi-frame file is refused: see
/// [`read_images`]).
pub fn read_instance(path: &Path) -> Result<PetInstance, PetError> {
    let mut images = read_images(path)?;
    if images.len() != 1 {
        return Err(PetError::at(
            path,
            ErrorKind::BadTag {
                tag: super::head::NUMBER_OF_FRAMES.to_string(),
                problem: format!(
                    "{} frames: an enhanced multi-frame image, read by read_images",
                    images.len()
                ),
            },
        ));
    }
    Ok(images.remove(0))
}

/// Reads the images of one PET file: one for a single-frame file, one per frame for an
/// enhanced multi-frame file, in the order of its frames.
pub fn read_images(path: &Path) -> Result<Vec<PetInstance>, PetError> {
    let pending = read_pending(path)?;
    let mut images = Vec::with_capacity(pending.len());
    let mut buf = Vec::new();
    for p in pending {
        let mut inst = p.inst;
        match p.source {
            PixelSource::Decoded(pixels) => inst.pixels = pixels,
            source => {
                let mut pixels = vec![0.0f32; inst.rows * inst.columns];
                if source.fill(path, &mut buf, &mut pixels).is_err() {
                    // dicom-rs has the last word on a file the fast path could not finish.
                    return read_with_dicom_rs(path);
                }
                inst.pixels = pixels;
            }
        }
        images.push(inst);
    }
    Ok(images)
}

/// Reads the header of one file, leaving native pixels in the file when it can: one image,
/// or one per frame of an enhanced file.
pub(crate) fn read_pending(path: &Path) -> Result<Vec<PendingInstance>, PetError> {
    if let Some(pending) = read_fast(path) {
        return Ok(pending);
    }
    let images = read_with_dicom_rs(path)?;
    Ok(images
        .into_iter()
        .map(|mut inst| {
            let pixels = std::mem::take(&mut inst.pixels);
            PendingInstance {
                inst,
                source: PixelSource::Decoded(pixels),
            }
        })
        .collect())
}

/// The whole file parsed by dicom-rs, pixels decoded.
fn read_with_dicom_rs(path: &Path) -> Result<Vec<PetInstance>, PetError> {
    let at = |kind| PetError::at(path, kind);
    let obj = open_dicom(path).map_err(at)?;
    match check_pet(&*obj).map_err(at)? {
        Storage::Single => read_opened(path, &obj).map(|image| vec![image]),
        Storage::Enhanced => read_opened_frames(path, obj),
    }
    .map_err(at)
}

/// The fast path (see [`fast`]): `None` whenever dicom-rs must read the file, be it to
/// read it or to say what is wrong with it.
fn read_fast(path: &Path) -> Option<Vec<PendingInstance>> {
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let file_len = meta.len();
    let mut prefix = Vec::with_capacity(HEADER_PREFIX);
    let mut wanted = HEADER_PREFIX;
    let diverged = Cell::new(false);
    loop {
        let more = wanted.saturating_sub(prefix.len()) as u64;
        let read = (&mut file).take(more).read_to_end(&mut prefix).ok()?;
        match fast::parse(&prefix, file_len, &diverged) {
            Ok(header) => return pending_from(path, &header, &diverged),
            // A file that ends early says so to dicom-rs.
            Err(Stop::NeedMore) if read > 0 => wanted = wanted.saturating_mul(8),
            Err(_) => return None,
        }
    }
}

fn pending_from(
    path: &Path,
    h: &fast::Header,
    diverged: &Cell<bool>,
) -> Option<Vec<PendingInstance>> {
    let ds = &h.data_set;
    let storage = check_pet(ds).ok()?;
    check_native_imaging(ds, storage)?;
    let images = match storage {
        Storage::Single => {
            let head = image_head(ds).ok()?;
            pixels::check_layout(head.layout, h.pixel_len).ok()?;
            let inst = finish(path, ds, &head, Vec::new()).ok()?;
            vec![PendingInstance {
                inst,
                source: PixelSource::File {
                    offset: h.pixel_offset,
                    len: h.pixel_len,
                    layout: head.layout,
                    slope: head.slope,
                    intercept: head.intercept,
                },
            }]
        }
        Storage::Enhanced => pending_frames(path, ds, h).ok()?,
    };
    if diverged.get() {
        return None;
    }
    Some(images)
}

/// The frames of an enhanced file on the fast path, each frame's samples left in the file.
fn pending_frames(
    path: &Path,
    ds: &fast::DataSet,
    h: &fast::Header,
) -> Result<Vec<PendingInstance>, ErrorKind> {
    let frames = enhanced::frames(ds)?;
    let layout = frames.first().map(|f| f.head.layout);
    let layout = layout.ok_or_else(|| ErrorKind::NoImages("no frames".into()))?;
    let frame_bytes = pixels::check_frames(layout, frames.len(), h.pixel_len)?;
    let identity = Identity::read(ds)?;
    Ok(frames
        .into_iter()
        .enumerate()
        .map(|(k, f)| PendingInstance {
            source: PixelSource::File {
                offset: h.pixel_offset + (k * frame_bytes) as u64,
                len: frame_bytes,
                layout,
                slope: f.head.slope,
                intercept: f.head.intercept,
            },
            inst: identity.image(
                path,
                &f.head,
                Some(f.number),
                f.slice_thickness_mm,
                f.suv,
                Vec::new(),
            ),
        })
        .collect())
}

/// Unsigned 16-bit value of a required attribute, as dicom-pixeldata reads it.
fn required_u16(ds: &fast::DataSet, tag: dicom_core::Tag) -> Option<u16> {
    if !ds.single_us(tag) {
        return None;
    }
    ds.value_text(tag)?.ok()?.parse().ok()
}

/// What dicom-pixeldata requires to decode native pixels without error (single values
/// of the image pixel attributes, no VOI LUT function, no planar configuration, no
/// functional groups in a single-frame file: an enhanced file's are removed before its
/// pixels are decoded); otherwise dicom-rs reads the file.
fn check_native_imaging(ds: &fast::DataSet, storage: Storage) -> Option<()> {
    use dicom_core::Tag;
    for tag in [
        Tag(0x0028, 0x0002), // SamplesPerPixel
        Tag(0x0028, 0x0010), // Rows
        Tag(0x0028, 0x0011), // Columns
        Tag(0x0028, 0x0100), // BitsAllocated
        Tag(0x0028, 0x0101), // BitsStored
        Tag(0x0028, 0x0102), // HighBit
    ] {
        required_u16(ds, tag)?;
    }
    if required_u16(ds, Tag(0x0028, 0x0002))? != 1 || required_u16(ds, Tag(0x0028, 0x0103))? > 1 {
        return None;
    }
    let photometric = ds.value_text(Tag(0x0028, 0x0004))?.ok()?;
    if photometric.is_empty() || photometric.contains('\\') {
        return None;
    }
    let mut absent = vec![
        Tag(0x0028, 0x0006), // PlanarConfiguration
        Tag(0x0028, 0x1056), // VOILUTFunction
    ];
    if storage == Storage::Single {
        absent.extend([SHARED_GROUPS.tag, PER_FRAME_GROUPS.tag]);
    }
    absent.iter().all(|t| !ds.contains(*t)).then_some(())
}

fn read_opened(path: &Path, obj: &DefaultDicomObject) -> Result<PetInstance, ErrorKind> {
    let head = image_head(&**obj)?;
    let pixels = pixels::rescaled_frame(obj, head.layout, head.slope, head.intercept)?;
    finish(path, &**obj, &head, pixels)
}

/// The frames of an enhanced file read by dicom-rs, pixels decoded.
fn read_opened_frames(
    path: &Path,
    mut obj: DefaultDicomObject,
) -> Result<Vec<PetInstance>, ErrorKind> {
    let frames = enhanced::frames(&*obj)?;
    let layout = frames.first().map(|f| f.head.layout);
    let layout = layout.ok_or_else(|| ErrorKind::NoImages("no frames".into()))?;
    // dicom-pixeldata looks for rescale and VOI LUT attributes in the functional groups and
    // refuses some combinations of them that do not concern the samples; each frame's were
    // read above, so the samples are decoded without them.
    obj.remove_element(SHARED_GROUPS.tag);
    obj.remove_element(PER_FRAME_GROUPS.tag);
    let rescales: Vec<(f64, f64)> = frames
        .iter()
        .map(|f| (f.head.slope, f.head.intercept))
        .collect();
    let pixels = pixels::rescaled_frames(&obj, layout, &rescales)?;
    let identity = Identity::read(&*obj)?;
    Ok(frames
        .into_iter()
        .zip(pixels)
        .map(|(f, pixels)| {
            let number = Some(f.number);
            identity.image(path, &f.head, number, f.slice_thickness_mm, f.suv, pixels)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The images as the fast path reads them, pixels filled in; `None` when it gives up.
    fn fast(path: &Path) -> Option<Vec<PetInstance>> {
        let mut images = Vec::new();
        for pending in read_fast(path)? {
            let mut inst = pending.inst;
            let mut pixels = vec![0.0f32; inst.rows * inst.columns];
            pending
                .source
                .fill(path, &mut Vec::new(), &mut pixels)
                .ok()?;
            inst.pixels = pixels;
            images.push(inst);
        }
        Some(images)
    }

    /// Where the fast path reads a file, dicom-rs must read it too, to the same bits
    /// (Debug prints every float exactly).
    fn agrees(path: &Path) -> bool {
        let Some(quick) = fast(path) else {
            return false;
        };
        let slow = read_with_dicom_rs(path)
            .unwrap_or_else(|e| panic!("fast path read what dicom-rs refuses: {e}"));
        assert_eq!(
            format!("{quick:?}"),
            format!("{slow:?}"),
            "{}",
            path.display()
        );
        true
    }

    fn reference_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro");
        let mut files = Vec::new();
        for case in std::fs::read_dir(&root).expect("IBSI SUV reference") {
            let pt = case.expect("entry").path().join("PT");
            if let Ok(entries) = std::fs::read_dir(&pt) {
                files.extend(entries.map(|e| e.expect("entry").path()));
            }
        }
        files.sort();
        files
    }

    #[test]
    fn fast_path_reads_the_reference_objects_as_dicom_rs_does() {
        let files = reference_files();
        assert!(files.len() >= 300, "{} reference files", files.len());
        let fast_reads = files.iter().filter(|f| agrees(f)).count();
        assert_eq!(
            fast_reads,
            files.len(),
            "every reference file takes the fast path"
        );
        let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken");
        for entry in std::fs::read_dir(broken).expect("broken corpus") {
            let path = entry.expect("entry").path();
            assert!(!agrees(&path), "{} is broken", path.display());
        }
    }

    /// An enhanced file's frames, each with its samples left in the file, read by both
    /// readers to the same bits; a file whose NumberOfFrames does not count the frames of
    /// its pixel data read by neither.
    #[test]
    fn fast_path_reads_an_enhanced_phantom_as_dicom_rs_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = crate::phantom::PhantomSpec {
            dims: [32, 24, 20],
            spacing_mm: [18.0, 24.0, 50.0],
            ..crate::phantom::PhantomSpec::new(4)
        };
        crate::phantom::write_enhanced_phantom_with(dir.path(), &spec).expect("phantom");
        let path = dir.path().join(crate::phantom::ENHANCED_FILE);
        assert!(agrees(&path));
        let frames = fast(&path).expect("fast path");
        assert_eq!(frames.len(), 20);
        let numbers: Vec<Option<u32>> = frames.iter().map(|f| f.frame).collect();
        assert_eq!(numbers, (1..=20).map(Some).collect::<Vec<_>>());
        // Frames run from the head down: 50 mm apart along z.
        assert_eq!(frames[0].position_mm[2] - frames[1].position_mm[2], 50.0);

        let mut obj = open_dicom(&path).expect("open");
        let put = |obj: &mut DefaultDicomObject, value: &str| {
            obj.put(dicom_core::DataElement::new(
                super::super::head::NUMBER_OF_FRAMES.tag,
                dicom_core::VR::IS,
                dicom_core::PrimitiveValue::from(value),
            ));
        };
        let removed = obj.update_value(PER_FRAME_GROUPS.tag, |v| {
            v.items_mut().expect("items").pop();
        });
        assert!(removed);
        put(&mut obj, "19");
        let short = dir.path().join("nineteen.dcm");
        obj.write_to_file(&short).expect("write");
        assert!(!agrees(&short));
        let err = read_with_dicom_rs(&short).unwrap_err().to_string();
        assert!(
            err.contains(
                "holds 30720 bytes, 20 whole frames of 1536 bytes, but NumberOfFrames \
                          (0028,0008) is 19, which needs 29184"
            ),
            "{err}"
        );
    }

    #[test]
    fn fast_path_reads_the_phantom_as_dicom_rs_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = crate::phantom::PhantomSpec {
            dims: [64, 64, 48],
            spacing_mm: [9.0, 9.0, 21.0],
            ..crate::phantom::PhantomSpec::new(4)
        };
        let truth = crate::phantom::write_phantom_with(dir.path(), &spec).expect("phantom");
        for name in &truth.files {
            assert!(agrees(&dir.path().join(name)), "{name}");
        }
    }

    /// Start of the data set: after the file meta group (explicit VR little endian).
    fn data_set_start(bytes: &[u8]) -> usize {
        let u16_at = |p: usize| u16::from_le_bytes([bytes[p], bytes[p + 1]]);
        let mut pos = 132;
        while u16_at(pos) == 0x0002 {
            pos += if matches!(&bytes[pos + 4..pos + 6], b"OB" | b"UN") {
                12 + u32::from_le_bytes([
                    bytes[pos + 8],
                    bytes[pos + 9],
                    bytes[pos + 10],
                    bytes[pos + 11],
                ]) as usize
            } else {
                8 + usize::from(u16_at(pos + 6))
            };
        }
        pos
    }

    #[test]
    fn a_file_left_to_dicom_rs_joins_the_volume_like_the_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut originals: Vec<PathBuf> = reference_files()
            .into_iter()
            .filter(|f| f.to_string_lossy().contains("DRO_0_0"))
            .collect();
        originals.sort();
        let mut copies = Vec::new();
        for (n, original) in originals.iter().enumerate() {
            let mut bytes = std::fs::read(original).expect("reference file");
            if n == 3 {
                // A character set the fast path leaves to dicom-rs (ASCII reads the same).
                let at = data_set_start(&bytes);
                let element = [8u8, 0, 5, 0, b'C', b'S', 10, 0];
                let value = b"ISO_IR 101";
                bytes.splice(at..at, element.iter().chain(value).copied());
            }
            let copy = dir.path().join(original.file_name().expect("name"));
            std::fs::write(&copy, &bytes).expect("write");
            copies.push(copy);
        }
        assert!(read_fast(&copies[3]).is_none() && read_fast(&copies[4]).is_some());
        let mixed = crate::series::load_series_files(&copies).expect("mixed series");
        let plain = crate::series::load_series_files(&originals).expect("series");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&mixed.volume.data), bits(&plain.volume.data));
        assert!(mixed.problems.is_empty(), "{:?}", mixed.problems);
        let same_headers = mixed
            .instances
            .iter()
            .zip(&plain.instances)
            .all(|(a, b)| a.suv == b.suv && a.sop_instance_uid == b.sop_instance_uid);
        assert!(same_headers);
    }

    /// 300 mutated headers by default; `MUTATIONS=N` runs more.
    #[test]
    fn mutated_headers_read_fast_only_where_dicom_rs_agrees() {
        let original = std::fs::read(&reference_files()[0]).expect("reference file");
        mutations_agree(&original, 256 * 256 * 2, 0x9E37_79B9_7F4A_7C15);
    }

    /// The same for an enhanced file, whose header is mostly functional groups: 300
    /// mutated headers of a 16 × 12 × 10 phantom.
    #[test]
    fn mutated_enhanced_headers_read_fast_only_where_dicom_rs_agrees() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = crate::phantom::PhantomSpec {
            dims: [16, 12, 10],
            spacing_mm: [36.0, 48.0, 50.0],
            ..crate::phantom::PhantomSpec::new(6)
        };
        crate::phantom::write_enhanced_phantom_with(dir.path(), &spec).expect("phantom");
        let path = dir.path().join(crate::phantom::ENHANCED_FILE);
        let original = std::fs::read(path).expect("enhanced phantom");
        mutations_agree(&original, 16 * 12 * 10 * 2, 0xD1B5_4A32_D192_ED03);
    }

    /// Mutates 1–3 bytes of the header (all but the last `pixel_bytes`) of `original`, over
    /// and over: wherever the fast path reads the result, dicom-rs must read it the same.
    fn mutations_agree(original: &[u8], pixel_bytes: usize, seed: u64) {
        let header = original.len() - pixel_bytes;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mutated.dcm");
        let mut state = seed;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut fast_reads = 0;
        for _ in 0..std::env::var("MUTATIONS").map_or(300, |v| v.parse().unwrap_or(300)) {
            let mut bytes = original.to_vec();
            for _ in 0..1 + next(3) {
                let at = next(header);
                bytes[at] = next(256) as u8;
            }
            std::fs::write(&path, &bytes).expect("write");
            fast_reads += usize::from(agrees(&path));
        }
        assert!(fast_reads > 0);
    }
}
