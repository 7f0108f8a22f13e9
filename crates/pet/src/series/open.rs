//! Opening a DICOM Part 10 file, tolerating a missing File Meta Information Group Length.
//!
//! PS3.10 §7.1 requires (0002,0000) as the first element of the file meta group, and
//! dicom-rs 0.10 refuses files without it. Some writers (the IBSI SUV reference objects
//! among them) omit it; the rest of such files is well-formed. When it is absent we compute
//! the group's length by walking its elements (always explicit VR little endian, PS3.10
//! §7.1) and insert it before handing the bytes to dicom-rs. Anything else is left to the
//! dicom-rs parser and its errors.

use std::io::Cursor;
use std::path::Path;

use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

use crate::error::{ErrorKind, chain};

const PREAMBLE: usize = 128;
const META_START: usize = PREAMBLE + 4;

/// Reads and parses a DICOM file (preamble, `DICM`, file meta group, data set).
pub fn open_dicom(path: &Path) -> Result<DefaultDicomObject, ErrorKind> {
    let meta = std::fs::metadata(path).map_err(|e| ErrorKind::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(ErrorKind::Io("not a regular file".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| ErrorKind::Io(e.to_string()))?;
    parse_dicom(bytes)
}

/// Parses the bytes of a DICOM file.
pub fn parse_dicom(bytes: Vec<u8>) -> Result<DefaultDicomObject, ErrorKind> {
    if bytes.len() < META_START + 8 || &bytes[PREAMBLE..META_START] != b"DICM" {
        return Err(ErrorKind::NotDicom(
            "no DICM prefix after a 128-byte preamble (PS3.10 §7.1)".into(),
        ));
    }
    let bytes = with_group_length(bytes);
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Always)
        .from_reader(Cursor::new(bytes))
        .map_err(|e| ErrorKind::NotDicom(chain(&e)))
}

/// Inserts (0002,0000) when the meta group lacks it; otherwise returns the bytes unchanged.
fn with_group_length(bytes: Vec<u8>) -> Vec<u8> {
    let u16_at = |p: usize| u16::from_le_bytes([bytes[p], bytes[p + 1]]);
    if u16_at(META_START) == 0x0002 && u16_at(META_START + 2) == 0x0000 {
        return bytes;
    }
    let mut pos = META_START;
    while pos + 8 <= bytes.len() && u16_at(pos) == 0x0002 {
        let vr = &bytes[pos + 4..pos + 6];
        let long = matches!(
            vr,
            b"OB"
                | b"OW"
                | b"OF"
                | b"SQ"
                | b"UT"
                | b"UN"
                | b"UC"
                | b"UR"
                | b"OD"
                | b"OL"
                | b"OV"
                | b"SV"
                | b"UV"
        );
        let (header, len) = if long {
            if pos + 12 > bytes.len() {
                break;
            }
            let l = u32::from_le_bytes([
                bytes[pos + 8],
                bytes[pos + 9],
                bytes[pos + 10],
                bytes[pos + 11],
            ]);
            (12, l as usize)
        } else {
            (8, usize::from(u16_at(pos + 6)))
        };
        if len == u32::MAX as usize {
            // Undefined length in the meta group is invalid; let the parser say so.
            return bytes;
        }
        pos = pos.saturating_add(header).saturating_add(len);
    }
    if pos == META_START || pos > bytes.len() {
        return bytes;
    }
    let group_length = (pos - META_START) as u32;
    let mut out = Vec::with_capacity(bytes.len() + 12);
    out.extend_from_slice(&bytes[..META_START]);
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 0x04, 0x00]);
    out.extend_from_slice(&group_length.to_le_bytes());
    out.extend_from_slice(&bytes[META_START..]);
    out
}
