//! Pixel data of one PET image: decoded by dicom-pixeldata, then interpreted here.
//!
//! dicom-pixeldata decodes any transfer syntax it supports into native little-endian
//! samples; the samples are then read with BitsAllocated, BitsStored and
//! PixelRepresentation (PS3.3 C.7.6.3.1) and rescaled with the slice's own RescaleSlope and
//! RescaleIntercept (PS3.3 C.11.1.1.2). A PET image is one grey-level sample per pixel.

use dicom_object::DefaultDicomObject;
use dicom_pixeldata::PixelDecoder;

use crate::error::{ErrorKind, chain};

/// Stored-sample layout of an image (PS3.3 C.7.6.3).
#[derive(Debug, Clone, Copy)]
pub struct SampleLayout {
    /// Rows × columns of the frame.
    pub pixels: usize,
    /// BitsAllocated (8, 16 or 32).
    pub bits_allocated: u16,
    /// BitsStored (≤ BitsAllocated).
    pub bits_stored: u16,
    /// PixelRepresentation: true when samples are two's-complement signed.
    pub signed: bool,
}

/// Decodes the single frame of `obj` and returns `stored × slope + intercept` per pixel.
pub fn rescaled_frame(
    obj: &DefaultDicomObject,
    layout: SampleLayout,
    slope: f64,
    intercept: f64,
) -> Result<Vec<f32>, ErrorKind> {
    let decoded = decode(obj)?;
    // The samples are checked before the frame is allocated: a header claiming 65535 ×
    // 65535 pixels over a few bytes is refused, not answered with 17 GB.
    check_layout(layout, decoded.data().len())?;
    let mut out = vec![0.0f32; layout.pixels];
    rescale_into(decoded.data(), layout, slope, intercept, &mut out)?;
    Ok(out)
}

/// Decodes the frames of a multi-frame `obj`, which must hold as many as `rescales` has
/// items, and returns frame `k`'s `stored × slope + intercept` per pixel with the `k`th
/// (slope, intercept).
pub fn rescaled_frames(
    obj: &DefaultDicomObject,
    layout: SampleLayout,
    rescales: &[(f64, f64)],
) -> Result<Vec<Vec<f32>>, ErrorKind> {
    let decoded = decode(obj)?;
    let frame_bytes = check_frames(layout, rescales.len(), decoded.data().len())?;
    let frames = decoded.data().chunks_exact(frame_bytes);
    frames
        .zip(rescales)
        .map(|(samples, &(slope, intercept))| {
            let mut out = vec![0.0f32; layout.pixels];
            rescale_into(samples, layout, slope, intercept, &mut out)?;
            Ok(out)
        })
        .collect()
}

/// The native samples of `obj`, one per pixel.
fn decode(obj: &DefaultDicomObject) -> Result<dicom_pixeldata::DecodedPixelData<'_>, ErrorKind> {
    let decoded = obj
        .decode_pixel_data()
        .map_err(|e| ErrorKind::Pixels(format!("PixelData (7FE0,0010): {}", chain(&e))))?;
    if decoded.samples_per_pixel() != 1 {
        return Err(ErrorKind::Pixels(format!(
            "SamplesPerPixel (0028,0002) is {}, a PET image has 1",
            decoded.samples_per_pixel()
        )));
    }
    Ok(decoded)
}

/// Checks that `available` sample bytes hold exactly `frames` frames of `layout` (and at
/// most the one byte that pads a value to an even length, PS3.5 §7.1.1); returns the bytes
/// of one frame. Too few bytes or too many: NumberOfFrames does not count the frames the
/// pixel data holds, and no frame is guessed at.
pub fn check_frames(
    layout: SampleLayout,
    frames: usize,
    available: usize,
) -> Result<usize, ErrorKind> {
    let (_, frame_bytes) = frame_size(layout)?;
    let needed = frame_bytes.checked_mul(frames).ok_or_else(|| {
        ErrorKind::Pixels("NumberOfFrames × Rows × Columns overflows the address space".into())
    })?;
    if available < needed || available > needed + needed % 2 {
        return Err(ErrorKind::Pixels(format!(
            "PixelData (7FE0,0010) holds {available} bytes, {} whole frames of {frame_bytes} \
             bytes, but NumberOfFrames (0028,0008) is {frames}, which needs {needed}",
            available / frame_bytes.max(1)
        )));
    }
    Ok(frame_bytes)
}

/// Checks `layout` against `available` sample bytes; returns the byte width of one
/// sample and the number of bytes the frame needs.
pub fn check_layout(layout: SampleLayout, available: usize) -> Result<(usize, usize), ErrorKind> {
    let (width, needed) = frame_size(layout)?;
    if available < needed {
        return Err(ErrorKind::Pixels(format!(
            "PixelData (7FE0,0010) holds {available} bytes, the image needs {needed} (truncated?)"
        )));
    }
    Ok((width, needed))
}

/// The byte width of one sample of `layout` and the bytes of one frame.
fn frame_size(layout: SampleLayout) -> Result<(usize, usize), ErrorKind> {
    let width = match layout.bits_allocated {
        8 => 1,
        16 => 2,
        32 => 4,
        other => {
            return Err(ErrorKind::BadTag {
                tag: "BitsAllocated (0028,0100)".into(),
                problem: format!("{other} is not 8, 16 or 32"),
            });
        }
    };
    let stored_bits = u32::from(layout.bits_stored);
    if stored_bits == 0 || stored_bits > u32::from(layout.bits_allocated) {
        return Err(ErrorKind::BadTag {
            tag: "BitsStored (0028,0101)".into(),
            problem: format!(
                "{} does not fit BitsAllocated {}",
                layout.bits_stored, layout.bits_allocated
            ),
        });
    }
    let needed = layout.pixels.checked_mul(width).ok_or_else(|| {
        ErrorKind::Pixels("Rows × Columns overflows the address space".to_string())
    })?;
    Ok((width, needed))
}

/// Stored sample values: masked to BitsStored and sign-extended when signed.
struct SampleReader {
    mask: u32,
    sign_bit: u32,
    signed: bool,
}

impl SampleReader {
    fn new(layout: SampleLayout) -> Self {
        let stored_bits = u32::from(layout.bits_stored);
        let mask: u32 = if stored_bits == 32 {
            u32::MAX
        } else {
            (1u32 << stored_bits) - 1
        };
        Self {
            mask,
            sign_bit: 1u32 << (stored_bits - 1),
            signed: layout.signed,
        }
    }

    #[inline]
    fn value(&self, raw: u32) -> f64 {
        let raw = raw & self.mask;
        if self.signed && raw & self.sign_bit != 0 {
            // Two's complement within BitsStored bits.
            f64::from(raw) - f64::from(self.mask) - 1.0
        } else {
            f64::from(raw)
        }
    }
}

/// Little-endian sample of `W` bytes.
#[inline]
fn raw<const W: usize>(c: &[u8]) -> u32 {
    match W {
        1 => u32::from(c[0]),
        2 => u32::from(u16::from_le_bytes([c[0], c[1]])),
        _ => u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
    }
}

/// Interprets raw little-endian sample bytes.
#[cfg(test)]
fn samples(bytes: &[u8], layout: SampleLayout) -> Result<Vec<f64>, ErrorKind> {
    let (width, needed) = check_layout(layout, bytes.len())?;
    let reader = SampleReader::new(layout);
    let chunks = bytes[..needed].chunks_exact(width);
    Ok(match width {
        1 => chunks.map(|c| reader.value(raw::<1>(c))).collect(),
        2 => chunks.map(|c| reader.value(raw::<2>(c))).collect(),
        _ => chunks.map(|c| reader.value(raw::<4>(c))).collect(),
    })
}

/// Writes `stored × slope + intercept` of each sample of `bytes` into `out`, which holds
/// one value per pixel of `layout`.
pub fn rescale_into(
    bytes: &[u8],
    layout: SampleLayout,
    slope: f64,
    intercept: f64,
    out: &mut [f32],
) -> Result<(), ErrorKind> {
    let (width, needed) = check_layout(layout, bytes.len())?;
    if out.len() != layout.pixels {
        return Err(ErrorKind::Pixels(format!(
            "{} pixels expected, room for {}",
            layout.pixels,
            out.len()
        )));
    }
    let reader = SampleReader::new(layout);
    match width {
        1 => rescale_width::<1>(&bytes[..needed], &reader, slope, intercept, out),
        2 => rescale_width::<2>(&bytes[..needed], &reader, slope, intercept, out),
        _ => rescale_width::<4>(&bytes[..needed], &reader, slope, intercept, out),
    }
    Ok(())
}

fn rescale_width<const W: usize>(
    bytes: &[u8],
    reader: &SampleReader,
    slope: f64,
    intercept: f64,
    out: &mut [f32],
) {
    if reader.signed {
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(W)) {
            *o = (reader.value(raw::<W>(c)) * slope + intercept) as f32;
        }
    } else {
        // The same arithmetic as `SampleReader::value` for unsigned samples, in a loop
        // without the sign test so that it vectorises.
        let mask = reader.mask;
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(W)) {
            *o = (f64::from(raw::<W>(c) & mask) * slope + intercept) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_12_bit_samples_are_sign_extended() {
        let layout = SampleLayout {
            pixels: 2,
            bits_allocated: 16,
            bits_stored: 12,
            signed: true,
        };
        // 0x0FFF is -1 in 12-bit two's complement; 0x07FF is +2047.
        let v = samples(&[0xFF, 0x0F, 0xFF, 0x07], layout).unwrap();
        assert_eq!(v, vec![-1.0, 2047.0]);
    }

    #[test]
    fn short_pixel_data_is_an_error_not_a_panic() {
        let layout = SampleLayout {
            pixels: 4,
            bits_allocated: 16,
            bits_stored: 16,
            signed: false,
        };
        let err = samples(&[1, 2, 3], layout).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
