//! The series reader's fast path: a small, bounds-checked reader for the common PET file
//! (explicit VR little endian, ASCII text, native pixel data as the file's last element).
//!
//! It reads the header from a prefix of the file and only notes where the pixel samples
//! lie, so that they can later be read straight into their slice of the volume: no
//! whole-object parse, no intermediate copies of the pixels.
//!
//! It never decides that a file is broken. Anything it does not expect — another transfer
//! syntax, a character set other than the default, ISO_IR 100 or ISO_IR 192, non-ASCII
//! text, elements out of order, a value length that does not fit its VR, an undefined
//! length outside sequences, data after the pixels — makes it give up ([`Stop::Unsupported`]),
//! and the caller reads the file with dicom-rs, whose result and errors are authoritative.
//! Where it does not give up, every attribute reads as the text dicom-rs would give for it
//! (`PrimitiveValue::to_str` of the value read with the default "preserved" strategy).

use std::borrow::Cow;
use std::cell::Cell;

use dicom_core::Tag;

use super::attr::AttrSource;

/// Explicit VR Little Endian (PS3.5 A.2).
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Deepest sequence nesting read; deeper files go to dicom-rs.
const MAX_DEPTH: usize = 8;
const PREAMBLE: usize = 128;
const META_START: usize = PREAMBLE + 4;
const UNDEFINED: u32 = u32::MAX;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);
const ITEM: Tag = Tag(0xFFFE, 0xE000);
const ITEM_END: Tag = Tag(0xFFFE, 0xE00D);
const SEQUENCE_END: Tag = Tag(0xFFFE, 0xE0DD);

/// Why the fast path stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The header goes on past the bytes given: read more of the file.
    NeedMore,
    /// Not a file for the fast path: read it with dicom-rs.
    Unsupported,
}

/// The value of one element.
#[derive(Debug)]
enum Value<'a> {
    /// The value bytes, as in the file.
    Bytes(&'a [u8]),
    /// The items of a sequence.
    Items(Vec<DataSet<'a>>),
    /// The pixel samples, left in the file.
    Pixels,
}

/// One element: tag, VR and value.
#[derive(Debug)]
struct Element<'a> {
    tag: Tag,
    vr: [u8; 2],
    value: Value<'a>,
}

/// A data set read by the fast path (the main one or a sequence item).
#[derive(Debug)]
pub struct DataSet<'a> {
    /// Elements in ascending tag order.
    elements: Vec<Element<'a>>,
    /// Set when an attribute was asked for whose text dicom-rs would give differently
    /// (a sequence read as text, an AT value): the caller must then use dicom-rs.
    diverged: &'a Cell<bool>,
}

/// The header of a file and where its pixel samples are.
#[derive(Debug)]
pub struct Header<'a> {
    /// The main data set, up to the pixel data.
    pub data_set: DataSet<'a>,
    /// Byte offset of the pixel samples in the file.
    pub pixel_offset: u64,
    /// Length of the pixel samples in bytes (they end the file).
    pub pixel_len: usize,
}

/// Parses the start of a file of `file_len` bytes whose first bytes are `prefix`.
///
/// `diverged` is shared by the data sets returned; see [`DataSet`].
pub fn parse<'a>(
    prefix: &'a [u8],
    file_len: u64,
    diverged: &'a Cell<bool>,
) -> Result<Header<'a>, Stop> {
    let complete = prefix.len() as u64 >= file_len;
    let mut r = Reader {
        bytes: prefix,
        pos: 0,
        complete,
    };
    meta(&mut r)?;
    let mut elements = Vec::new();
    loop {
        let (tag, vr, len) = r.element_header()?;
        if tag == PIXEL_DATA {
            let offset = r.pos as u64;
            let fits = matches!(&vr, b"OW" | b"OB")
                && len != UNDEFINED
                && (vr != *b"OW" || len % 2 == 0)
                && offset + u64::from(len) == file_len;
            if !fits || !ascending(&elements, tag) {
                return Err(Stop::Unsupported);
            }
            elements.push(Element {
                tag,
                vr,
                value: Value::Pixels,
            });
            let data_set = DataSet { elements, diverged };
            check_charset(&data_set)?;
            return Ok(Header {
                data_set,
                pixel_offset: offset,
                pixel_len: len as usize,
            });
        }
        if tag.0 < 0x0008 || !ascending(&elements, tag) {
            return Err(Stop::Unsupported);
        }
        let value = r.value(vr, len, 0, diverged)?;
        elements.push(Element { tag, vr, value });
    }
}

/// Only character sets under which ASCII bytes read as ASCII, without code extensions.
fn check_charset(ds: &DataSet) -> Result<(), Stop> {
    match ds.value_text(SPECIFIC_CHARACTER_SET) {
        None => Ok(()),
        Some(Ok(cs)) if matches!(cs.as_ref(), "" | "ISO_IR 6" | "ISO_IR 100" | "ISO_IR 192") => {
            Ok(())
        }
        Some(_) => Err(Stop::Unsupported),
    }
}

fn ascending(elements: &[Element], tag: Tag) -> bool {
    elements.last().is_none_or(|e| e.tag < tag)
}

/// Checks the preamble and the file meta group; only explicit VR little endian passes.
fn meta(r: &mut Reader) -> Result<(), Stop> {
    if r.bytes.len() < META_START {
        return Err(r.end());
    }
    if &r.bytes[PREAMBLE..META_START] != b"DICM" {
        return Err(Stop::Unsupported);
    }
    r.pos = META_START;
    let (mut group_length, mut syntax) = (None, None);
    let mut present = [false; 2];
    let mut last: Option<Tag> = None;
    while r.peek_group()? == 0x0002 {
        let (tag, vr, len) = r.element_header()?;
        if len == UNDEFINED || last.is_some_and(|t| t >= tag) {
            return Err(Stop::Unsupported);
        }
        last = Some(tag);
        let value = r.take(len as usize)?;
        match tag.1 {
            0x0000 if vr == *b"UL" && value.len() == 4 => {
                group_length = Some((
                    u32::from_le_bytes([value[0], value[1], value[2], value[3]]),
                    r.pos,
                ));
            }
            0x0001 if value.len() == 2 => {}
            0x0002 if uid_like(value) => present[0] = true,
            0x0003 if uid_like(value) => present[1] = true,
            0x0012 if uid_like(value) => {}
            0x0010 if uid_like(value) => syntax = Some(value),
            0x0013 | 0x0016 if value.len() <= 16 && value.iter().all(|&b| b < 0x80) => {}
            // Anything else in the meta group, or a value dicom-rs would refuse.
            _ => return Err(Stop::Unsupported),
        }
    }
    let syntax = syntax.ok_or(Stop::Unsupported)?;
    let syntax = syntax.strip_suffix(b"\0").unwrap_or(syntax);
    if syntax != EXPLICIT_VR_LE.as_bytes() || present != [true, true] {
        return Err(Stop::Unsupported);
    }
    // A group length must describe the group exactly (dicom-rs trusts it).
    if let Some((length, after)) = group_length
        && (after + length as usize) != r.pos
    {
        return Err(Stop::Unsupported);
    }
    Ok(())
}

/// The characters dicom-rs accepts in a UID of the file meta group.
fn uid_like(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'.' || b.is_ascii_digit() || b == 0 || b.is_ascii_whitespace())
}

/// Whether values of `vr` use the long (4-byte) length form of explicit VR.
fn long_form(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"SV"
            | b"UV"
    )
}

/// VRs whose values are text.
fn text_vr(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"AE"
            | b"AS"
            | b"CS"
            | b"DA"
            | b"DS"
            | b"DT"
            | b"IS"
            | b"LO"
            | b"LT"
            | b"PN"
            | b"SH"
            | b"ST"
            | b"TM"
            | b"UC"
            | b"UI"
            | b"UR"
            | b"UT"
    )
}

/// Byte width of one value of a binary VR; `None` for text, SQ and unknown VRs.
fn binary_width(vr: [u8; 2]) -> Option<usize> {
    match &vr {
        b"OB" | b"UN" => Some(1),
        b"US" | b"SS" | b"OW" => Some(2),
        b"UL" | b"SL" | b"FL" | b"OF" | b"OL" | b"AT" => Some(4),
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => Some(8),
        _ => None,
    }
}

/// A bounds-checked cursor over the prefix.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Whether `bytes` is the whole file (running out is then not "need more").
    complete: bool,
}

impl<'a> Reader<'a> {
    fn end(&self) -> Stop {
        if self.complete {
            Stop::Unsupported
        } else {
            Stop::NeedMore
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n).ok_or(Stop::Unsupported)?;
        let slice = self.bytes.get(self.pos..end).ok_or_else(|| self.end())?;
        self.pos = end;
        Ok(slice)
    }

    fn u16(&mut self) -> Result<u16, Stop> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Stop> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn peek_group(&self) -> Result<u16, Stop> {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
            None => Err(self.end()),
        }
    }

    fn tag(&mut self) -> Result<Tag, Stop> {
        Ok(Tag(self.u16()?, self.u16()?))
    }

    /// Tag, VR and length of an explicit VR little endian element.
    fn element_header(&mut self) -> Result<(Tag, [u8; 2], u32), Stop> {
        let tag = self.tag()?;
        if tag.0 == 0xFFFE {
            return Err(Stop::Unsupported);
        }
        let vr = self.take(2)?;
        let vr = [vr[0], vr[1]];
        if !text_vr(vr) && binary_width(vr).is_none() && vr != *b"SQ" {
            return Err(Stop::Unsupported);
        }
        let len = if long_form(vr) {
            self.take(2)?;
            self.u32()?
        } else {
            u32::from(self.u16()?)
        };
        Ok((tag, vr, len))
    }

    /// The value of an element whose header was just read.
    fn value(
        &mut self,
        vr: [u8; 2],
        len: u32,
        depth: usize,
        diverged: &'a Cell<bool>,
    ) -> Result<Value<'a>, Stop> {
        if vr == *b"SQ" {
            return self.sequence(len, depth + 1, diverged).map(Value::Items);
        }
        if len == UNDEFINED {
            return Err(Stop::Unsupported);
        }
        let bytes = self.take(len as usize)?;
        let fits = if text_vr(vr) {
            bytes.iter().all(|&b| b < 0x80 && b != 0x1B)
        } else {
            binary_width(vr).is_some_and(|w| bytes.len() % w == 0)
        };
        if fits {
            Ok(Value::Bytes(bytes))
        } else {
            Err(Stop::Unsupported)
        }
    }

    /// The items of a sequence of length `len` (possibly undefined).
    fn sequence(
        &mut self,
        len: u32,
        depth: usize,
        diverged: &'a Cell<bool>,
    ) -> Result<Vec<DataSet<'a>>, Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Unsupported);
        }
        let end = self.bounded_end(len)?;
        let mut items = Vec::new();
        loop {
            if Some(self.pos) == end {
                return Ok(items);
            }
            let (tag, item_len) = (self.tag()?, self.u32()?);
            match tag {
                SEQUENCE_END if end.is_none() && item_len == 0 => return Ok(items),
                ITEM => items.push(self.item(item_len, depth, diverged)?),
                _ => return Err(Stop::Unsupported),
            }
            if end.is_some_and(|e| self.pos > e) {
                return Err(Stop::Unsupported);
            }
        }
    }

    /// Where a value of length `len` ends; `None` for an undefined length.
    fn bounded_end(&self, len: u32) -> Result<Option<usize>, Stop> {
        if len == UNDEFINED {
            return Ok(None);
        }
        self.pos
            .checked_add(len as usize)
            .map(Some)
            .ok_or(Stop::Unsupported)
    }

    /// The data set of one sequence item of length `len` (possibly undefined).
    fn item(
        &mut self,
        len: u32,
        depth: usize,
        diverged: &'a Cell<bool>,
    ) -> Result<DataSet<'a>, Stop> {
        let end = self.bounded_end(len)?;
        let mut elements: Vec<Element<'a>> = Vec::new();
        loop {
            match end {
                Some(e) if self.pos == e => break,
                Some(e) if self.pos > e => return Err(Stop::Unsupported),
                _ => {}
            }
            if end.is_none() && self.peek_group()? == 0xFFFE {
                let (tag, zero) = (self.tag()?, self.u32()?);
                if tag == ITEM_END && zero == 0 {
                    break;
                }
                return Err(Stop::Unsupported);
            }
            let (tag, vr, len) = self.element_header()?;
            if !ascending(&elements, tag) {
                return Err(Stop::Unsupported);
            }
            let value = self.value(vr, len, depth, diverged)?;
            elements.push(Element { tag, vr, value });
        }
        Ok(DataSet { elements, diverged })
    }
}

impl<'a> DataSet<'a> {
    fn find(&self, tag: Tag) -> Option<&Element<'a>> {
        self.elements
            .binary_search_by(|e| e.tag.cmp(&tag))
            .ok()
            .map(|i| &self.elements[i])
    }

    /// Whether the attribute `tag` is present with VR US holding one value.
    pub fn single_us(&self, tag: Tag) -> bool {
        self.find(tag)
            .is_some_and(|e| e.vr == *b"US" && matches!(e.value, Value::Bytes(b) if b.len() == 2))
    }

    /// Gives up on reading like dicom-rs: the caller must use dicom-rs.
    fn diverge(&self) -> Option<Result<Cow<'_, str>, String>> {
        self.diverged.set(true);
        Some(Err("read by the fast path".into()))
    }
}

/// The text of a value as dicom-rs gives it: strings split at `\`, trailing spaces and
/// NULs trimmed from each, joined again; numbers in their `Display` form joined by `\`.
fn text_of(vr: [u8; 2], bytes: &[u8]) -> Option<String> {
    if text_vr(vr) {
        // Checked to be ASCII when read.
        let s = std::str::from_utf8(bytes).ok()?;
        let trim = |p: &str| p.trim_end_matches([' ', '\0']).to_string();
        return Some(if matches!(&vr, b"LT" | b"ST" | b"UT" | b"UR") {
            trim(s)
        } else {
            s.split('\\').map(trim).collect::<Vec<_>>().join("\\")
        });
    }
    let width = binary_width(vr)?;
    let parts: Vec<String> = bytes
        .chunks_exact(width)
        .map(|c| number_text(vr, c))
        .collect::<Option<_>>()?;
    Some(parts.join("\\"))
}

/// One binary value in its `Display` form (`None` for AT, whose form differs).
fn number_text(vr: [u8; 2], c: &[u8]) -> Option<String> {
    let b2 = || [c[0], c[1]];
    let b4 = || [c[0], c[1], c[2], c[3]];
    let b8 = || [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
    Some(match &vr {
        b"OB" | b"UN" => c[0].to_string(),
        b"US" | b"OW" => u16::from_le_bytes(b2()).to_string(),
        b"SS" => i16::from_le_bytes(b2()).to_string(),
        b"UL" | b"OL" => u32::from_le_bytes(b4()).to_string(),
        b"SL" => i32::from_le_bytes(b4()).to_string(),
        b"FL" | b"OF" => f32::from_le_bytes(b4()).to_string(),
        b"FD" | b"OD" => f64::from_le_bytes(b8()).to_string(),
        b"SV" => i64::from_le_bytes(b8()).to_string(),
        b"UV" | b"OV" => u64::from_le_bytes(b8()).to_string(),
        _ => return None,
    })
}

impl<'a> AttrSource for DataSet<'a> {
    type Item = DataSet<'a>;

    fn value_text(&self, tag: Tag) -> Option<Result<Cow<'_, str>, String>> {
        let e = self.find(tag)?;
        match &e.value {
            Value::Bytes([]) => Some(Ok(Cow::Borrowed(""))),
            Value::Bytes(bytes) => match text_of(e.vr, bytes) {
                Some(t) => Some(Ok(Cow::Owned(t))),
                None => self.diverge(),
            },
            Value::Items(_) | Value::Pixels => self.diverge(),
        }
    }

    fn sequence(&self, tag: Tag) -> Option<Option<&[DataSet<'a>]>> {
        self.find(tag).map(|e| match &e.value {
            Value::Items(items) => Some(items.as_slice()),
            Value::Bytes(_) | Value::Pixels => None,
        })
    }

    fn contains(&self, tag: Tag) -> bool {
        self.find(tag).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
        out.extend_from_slice(&group.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(vr);
        if long_form(*vr) {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(value);
    }

    fn file(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; PREAMBLE];
        out.extend_from_slice(b"DICM");
        element(
            &mut out,
            0x0002,
            0x0002,
            b"UI",
            b"1.2.840.10008.5.1.4.1.1.128\0",
        );
        element(&mut out, 0x0002, 0x0003, b"UI", b"1.2.3\0");
        element(&mut out, 0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1\0");
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_text_numbers_and_the_pixel_location() {
        let mut body = Vec::new();
        element(&mut body, 0x0008, 0x0060, b"CS", b"PT");
        element(&mut body, 0x0020, 0x0032, b"DS", b"-1.5\\2 \\3 ");
        element(&mut body, 0x0028, 0x0010, b"US", &7u16.to_le_bytes());
        element(&mut body, 0x7FE0, 0x0010, b"OW", &[1, 0, 2, 0]);
        let bytes = file(&body);
        let flag = Cell::new(false);
        let h = parse(&bytes, bytes.len() as u64, &flag).unwrap();
        let text = |g, e| h.data_set.value_text(Tag(g, e)).unwrap().unwrap();
        assert_eq!(text(0x0008, 0x0060), "PT");
        assert_eq!(text(0x0020, 0x0032), "-1.5\\2\\3");
        assert_eq!(text(0x0028, 0x0010), "7");
        assert_eq!((h.pixel_offset, h.pixel_len), (bytes.len() as u64 - 4, 4));
        assert!(!flag.get());
    }

    #[test]
    fn short_prefix_asks_for_more_and_oddities_give_up() {
        let mut body = Vec::new();
        element(&mut body, 0x0008, 0x0060, b"CS", b"PT");
        element(&mut body, 0x7FE0, 0x0010, b"OW", &[1, 0]);
        let bytes = file(&body);
        let flag = Cell::new(false);
        assert_eq!(
            parse(&bytes[..150], bytes.len() as u64, &flag).unwrap_err(),
            Stop::NeedMore
        );
        // Data after the pixels, out-of-order tags, non-ASCII text: dicom-rs decides.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(parse(&longer, longer.len() as u64 + 1, &flag).is_err());
        let mut swapped = Vec::new();
        element(&mut swapped, 0x0010, 0x0010, b"PN", b"A");
        element(&mut swapped, 0x0008, 0x0060, b"CS", b"PT");
        let swapped = file(&swapped);
        assert_eq!(
            parse(&swapped, swapped.len() as u64, &flag).unwrap_err(),
            Stop::Unsupported
        );
        let mut latin = Vec::new();
        element(&mut latin, 0x0010, 0x0010, b"PN", &[0xE9, b' ']);
        let latin = file(&latin);
        assert_eq!(
            parse(&latin, latin.len() as u64, &flag).unwrap_err(),
            Stop::Unsupported
        );
    }
}
