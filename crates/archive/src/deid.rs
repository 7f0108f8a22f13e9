//! De-identification on ingest: the profile of `docs/deidentification.md`, applied while a
//! data set streams to disk, so that the identifiers a scanner sends never reach a file.
//!
//! The profile is modelled on the Basic Application Level Confidentiality Profile of
//! DICOM PS3.15 Annex E with the Retain Longitudinal Temporal Information with Full Dates,
//! Retain Patient Characteristics, Retain UIDs and Retain Safe Private options (the SUV
//! needs the dates, weight and height; the trial files objects by their UIDs; the vendors'
//! SUV factors sit in private groups). Top-level attributes are handled by [`action`]:
//!
//! | action | attributes |
//! |---|---|
//! | kept | everything not listed below |
//! | emptied (Z) | PatientName, PatientBirthDate, AccessionNumber, ReferringPhysicianName, StudyID |
//! | pseudonymised | PatientID unless it is a study id (`KS-001`): `PSN-` + 12 hex digits of a keyed SHA-256 |
//! | removed (X) | the rest of group 0010 (other ids and their sequence, address, telephone, birth name, …) except sex, age, size and weight; physicians, operators, institution; admission; order numbers; comments; private groups other than 0009 and 7053 |
//! | added | PatientIdentityRemoved (0012,0062) `YES` and DeidentificationMethod (0012,0063) |
//!
//! The filter ([`Filter`]) parses element headers only: values pass through in the
//! fragments they arrive in, and a value it must change (PatientID) is held until whole.
//! A sequence listed for removal goes with everything nested in it; attributes nested in
//! a kept sequence are kept.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::error::IngestErrorKind;

/// The value written in DeidentificationMethod (0012,0063) (LO, at most 64 characters).
pub const DEIDENTIFICATION_METHOD: &str =
    "HER2EX PS3.15 E.1 basic, dates, chars, UIDs, safe private";

/// The pseudonym of a PatientID that is not a study id (see the module documentation).
pub fn pseudonym(key: &[u8], patient_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update([0u8]);
    h.update(patient_id.trim().as_bytes());
    format!("PSN-{}", &hex::encode(h.finalize())[..12])
}

/// Whether a PatientID is kept as sent: a HER2-Ex study id (site code, dash, number),
/// which is already the trial's pseudonym.
pub fn is_study_id(patient_id: &str) -> bool {
    protocol::StudyId::parse(patient_id.trim()).is_ok()
        && protocol::privacy::find_personal_number(patient_id).is_none()
}

/// What happens to a top-level attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Written unchanged.
    Keep,
    /// Written with an empty value.
    Empty,
    /// Left out, with anything nested in it.
    Remove,
    /// PatientID: kept when a study id, otherwise replaced by its pseudonym.
    PatientId,
}

/// The profile's action for a top-level attribute `(group, element)`.
pub fn action(group: u16, element: u16) -> Action {
    let tag = (u32::from(group) << 16) | u32::from(element);
    if group % 2 == 1 {
        // Retain Safe Private: the GE (0009) and Philips (7053) groups the SUV reads.
        return if group == 0x0009 || group == 0x7053 {
            Action::Keep
        } else {
            Action::Remove
        };
    }
    match tag {
        0x0010_0020 => Action::PatientId,
        0x0010_0010 | 0x0010_0030 | 0x0008_0050 | 0x0008_0090 | 0x0020_0010 => Action::Empty,
        // Retain Patient Characteristics: sex, age, size, weight.
        0x0010_0040 | 0x0010_1010 | 0x0010_1020 | 0x0010_1030 => Action::Keep,
        _ if group == 0x0010 => Action::Remove,
        // Ours are added; any sent are replaced.
        0x0012_0062 | 0x0012_0063 => Action::Remove,
        0x0008_0080 | 0x0008_0081 | 0x0008_0092 | 0x0008_0094 | 0x0008_0096 | 0x0008_1010
        | 0x0008_1040 | 0x0008_1048 | 0x0008_1049 | 0x0008_1050 | 0x0008_1052 | 0x0008_1060
        | 0x0008_1062 | 0x0008_1070 | 0x0008_1072 | 0x0008_1120 | 0x0008_4000 => Action::Remove,
        0x0018_1000 | 0x0020_4000 | 0x0032_1032 | 0x0032_1033 | 0x0038_0010 | 0x0038_0300
        | 0x0038_0400 | 0x0040_0006 | 0x0040_0253 | 0x0040_0275 | 0x0040_1001 | 0x0040_2016
        | 0x0040_2017 | 0x0040_A123 => Action::Remove,
        _ => Action::Keep,
    }
}

/// How the data set is encoded (from its transfer syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Explicit VR (else implicit).
    pub explicit_vr: bool,
    /// Big endian (else little).
    pub big_endian: bool,
}

impl Encoding {
    /// The encoding of an uncompressed or encapsulated transfer syntax; `None` for the
    /// deflated ones, whose bytes cannot be read element by element.
    pub fn of(transfer_syntax: &str) -> Option<Encoding> {
        let ts = transfer_syntax.trim_end_matches(['\0', ' ']);
        match ts {
            "1.2.840.10008.1.2" => Some(Encoding {
                explicit_vr: false,
                big_endian: false,
            }),
            "1.2.840.10008.1.2.2" => Some(Encoding {
                explicit_vr: true,
                big_endian: true,
            }),
            "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.8.1" => None,
            _ => Some(Encoding {
                explicit_vr: true,
                big_endian: false,
            }),
        }
    }
}

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: u32 = 0xFFFE_E000;
const ITEM_END: u32 = 0xFFFE_E00D;
const SEQUENCE_END: u32 = 0xFFFE_E0DD;
/// A PatientID longer than this is not held to be rewritten: it is emptied.
const MAX_HELD_VALUE: u32 = 1024;

/// What is being done with the bytes of the current value.
enum Value {
    /// Copied to the output.
    Pass(u64),
    /// Skipped.
    Drop(u64),
    /// Held to be rewritten (PatientID).
    Hold { remaining: u32, vr: [u8; 2] },
}

/// A streaming de-identifier: data set bytes in, de-identified data set bytes out to `W`.
pub struct Filter<W: Write> {
    out: W,
    enc: Encoding,
    key: Vec<u8>,
    header: Vec<u8>,
    value: Option<Value>,
    held: Vec<u8>,
    /// Open containers (sequences and items of undefined length).
    depth: usize,
    /// While a removed attribute of undefined length is skipped: the depth it started at.
    dropping_from: Option<usize>,
    marked: bool,
}

impl<W: Write> Filter<W> {
    /// A filter writing to `out`; `key` derives pseudonyms.
    pub fn new(out: W, enc: Encoding, key: &[u8]) -> Self {
        Self {
            out,
            enc,
            key: key.to_vec(),
            header: Vec::with_capacity(12),
            value: None,
            held: Vec::new(),
            depth: 0,
            dropping_from: None,
            marked: false,
        }
    }

    /// Takes the next fragment of the data set.
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), IngestErrorKind> {
        while !data.is_empty() {
            match self.value.take() {
                Some(Value::Pass(n)) => {
                    let k = take(n, data.len());
                    self.emit(&data[..k])?;
                    data = &data[k..];
                    self.value = (n > k as u64).then(|| Value::Pass(n - k as u64));
                }
                Some(Value::Drop(n)) => {
                    let k = take(n, data.len());
                    data = &data[k..];
                    self.value = (n > k as u64).then(|| Value::Drop(n - k as u64));
                }
                Some(Value::Hold { remaining, vr }) => {
                    let k = take(u64::from(remaining), data.len());
                    self.held.extend_from_slice(&data[..k]);
                    data = &data[k..];
                    let left = remaining - k as u32;
                    if left > 0 {
                        self.value = Some(Value::Hold {
                            remaining: left,
                            vr,
                        });
                    } else {
                        self.write_patient_id(vr)?;
                    }
                }
                None => {
                    let need = self.header_len();
                    let k = (need - self.header.len()).min(data.len());
                    self.header.extend_from_slice(&data[..k]);
                    data = &data[k..];
                    if self.header.len() >= 8 && self.header.len() == self.header_len() {
                        self.on_header()?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the data set: it must end between top-level attributes. Returns the output.
    pub fn finish(mut self) -> Result<W, IngestErrorKind> {
        if self.value.is_some() || !self.header.is_empty() || self.depth != 0 {
            return Err(IngestErrorKind::NotDicom(
                "data set ends in the middle of an attribute".into(),
            ));
        }
        self.mark()?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }

    /// Bytes of the header being read: the tag first, then 8 bytes, or 12 for explicit
    /// VRs with a 4-byte length.
    fn header_len(&self) -> usize {
        if self.header.len() < 4 {
            4
        } else if self.tag() >> 16 == 0xFFFE || !self.enc.explicit_vr {
            8
        } else if self.header.len() < 6 {
            6
        } else if long_vr([self.header[4], self.header[5]]) {
            12
        } else {
            8
        }
    }

    fn u16_at(&self, p: usize) -> u16 {
        let b = [self.header[p], self.header[p + 1]];
        if self.enc.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32_at(&self, p: usize) -> u32 {
        let b = [
            self.header[p],
            self.header[p + 1],
            self.header[p + 2],
            self.header[p + 3],
        ];
        if self.enc.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn tag(&self) -> u32 {
        (u32::from(self.u16_at(0)) << 16) | u32::from(self.u16_at(2))
    }

    /// A whole element header is in `self.header`: decide what to do with its value.
    fn on_header(&mut self) -> Result<(), IngestErrorKind> {
        let tag = self.tag();
        let delimiter = tag >> 16 == 0xFFFE;
        let (vr, len) = if delimiter || !self.enc.explicit_vr {
            (None, self.u32_at(4))
        } else if self.header.len() == 12 {
            (Some([self.header[4], self.header[5]]), self.u32_at(8))
        } else {
            (
                Some([self.header[4], self.header[5]]),
                u32::from(self.u16_at(6)),
            )
        };
        let header = std::mem::take(&mut self.header);
        if tag == ITEM_END || tag == SEQUENCE_END {
            if self.depth == 0 {
                return Err(IngestErrorKind::NotDicom(
                    "a delimiter closes nothing".into(),
                ));
            }
            self.depth -= 1;
            if self.dropping_from == Some(self.depth) {
                self.dropping_from = None;
            } else {
                self.emit(&header)?;
            }
            return Ok(());
        }
        if vr == Some(*b"UN") && len == UNDEFINED {
            return Err(IngestErrorKind::NotDicom(
                "UN attribute of undefined length is not supported".into(),
            ));
        }
        let top = self.depth == 0 && self.dropping_from.is_none() && tag != ITEM;
        if top && tag > 0x0012_0063 {
            self.mark()?;
        }
        let act = if top {
            action((tag >> 16) as u16, tag as u16)
        } else {
            Action::Keep
        };
        let dropping = self.dropping_from.is_some();
        match (act, len) {
            (Action::Remove, UNDEFINED) => {
                self.dropping_from = Some(self.depth);
                self.depth += 1;
            }
            (Action::Remove, n) => self.value = Some(Value::Drop(u64::from(n))),
            (Action::Empty, n) => {
                self.write_header(tag, vr, 0)?;
                if n == UNDEFINED {
                    self.dropping_from = Some(self.depth);
                    self.depth += 1;
                } else {
                    self.value = Some(Value::Drop(u64::from(n)));
                }
            }
            (Action::PatientId, n) if n <= MAX_HELD_VALUE => {
                self.held.clear();
                let vr = vr.unwrap_or(*b"LO");
                if n == 0 {
                    self.write_patient_id(vr)?;
                } else {
                    self.value = Some(Value::Hold { remaining: n, vr });
                }
            }
            (Action::PatientId, n) => {
                self.write_header(tag, vr, 0)?;
                self.value = Some(Value::Drop(u64::from(n)));
            }
            (Action::Keep, UNDEFINED) => {
                if !dropping {
                    self.emit(&header)?;
                }
                self.depth += 1;
            }
            (Action::Keep, n) => {
                if dropping {
                    self.value = Some(Value::Drop(u64::from(n)));
                } else {
                    self.emit(&header)?;
                    self.value = Some(Value::Pass(u64::from(n)));
                }
            }
        }
        if matches!(self.value, Some(Value::Pass(0) | Value::Drop(0))) {
            self.value = None;
        }
        Ok(())
    }

    /// Writes PatientID from the held value: kept when a study id, else its pseudonym.
    fn write_patient_id(&mut self, vr: [u8; 2]) -> Result<(), IngestErrorKind> {
        self.value = None;
        let sent = String::from_utf8_lossy(&self.held)
            .trim_matches(|c: char| c == ' ' || c == '\0')
            .to_string();
        self.held.clear();
        let value = if sent.is_empty() || is_study_id(&sent) {
            sent
        } else {
            pseudonym(&self.key, &sent)
        };
        self.write_text(0x0010_0020, vr, &value)
    }

    /// Adds PatientIdentityRemoved and DeidentificationMethod (once, in tag order).
    fn mark(&mut self) -> Result<(), IngestErrorKind> {
        if self.marked {
            return Ok(());
        }
        self.marked = true;
        self.write_text(0x0012_0062, *b"CS", "YES")?;
        self.write_text(0x0012_0063, *b"LO", DEIDENTIFICATION_METHOD)
    }

    /// Writes a text attribute, padded with a space to an even length.
    fn write_text(&mut self, tag: u32, vr: [u8; 2], value: &str) -> Result<(), IngestErrorKind> {
        let mut bytes = value.as_bytes().to_vec();
        if bytes.len() % 2 == 1 {
            bytes.push(b' ');
        }
        let len = u32::try_from(bytes.len()).unwrap_or(0);
        self.write_header(tag, Some(vr), len)?;
        self.emit(&bytes)
    }

    fn write_header(
        &mut self,
        tag: u32,
        vr: Option<[u8; 2]>,
        len: u32,
    ) -> Result<(), IngestErrorKind> {
        let mut h = Vec::with_capacity(12);
        let be = self.enc.big_endian;
        let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        h.extend_from_slice(&u16b((tag >> 16) as u16));
        h.extend_from_slice(&u16b(tag as u16));
        match vr {
            Some(vr) if self.enc.explicit_vr => {
                h.extend_from_slice(&vr);
                if long_vr(vr) {
                    h.extend_from_slice(&[0, 0]);
                    h.extend_from_slice(&u32b(len));
                } else {
                    h.extend_from_slice(&u16b(u16::try_from(len).unwrap_or(0)));
                }
            }
            _ => h.extend_from_slice(&u32b(len)),
        }
        self.emit(&h)
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), IngestErrorKind> {
        self.out.write_all(bytes).map_err(io)
    }
}

fn io(e: std::io::Error) -> IngestErrorKind {
    IngestErrorKind::Io {
        action: "write the received object",
        reason: e.to_string(),
    }
}

fn take(n: u64, available: usize) -> usize {
    usize::try_from(n).map_or(available, |n| n.min(available))
}

/// VRs written with 2 reserved bytes and a 4-byte length (PS3.5 §7.1.2).
fn long_vr(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE: Encoding = Encoding {
        explicit_vr: true,
        big_endian: false,
    };

    fn el(group: u16, element: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&group.to_le_bytes());
        v.extend_from_slice(&element.to_le_bytes());
        v.extend_from_slice(vr);
        v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    fn run(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut f = Filter::new(Vec::new(), LE, b"key");
        for c in input.chunks(chunk) {
            f.push(c).unwrap();
        }
        f.finish().unwrap()
    }

    #[test]
    fn identifiers_are_removed_in_any_fragmentation() {
        let mut input = el(0x0008, 0x0060, b"CS", b"PT");
        input.extend(el(0x0010, 0x0010, b"PN", b"Svensson^Anna"));
        input.extend(el(0x0010, 0x0020, b"LO", b"19850312-1231 "));
        input.extend(el(0x0010, 0x0030, b"DA", b"19850312"));
        input.extend(el(0x0010, 0x1000, b"LO", b"8503121231"));
        input.extend(el(0x0010, 0x1030, b"DS", b"70"));
        // OtherPatientIDsSequence, undefined length, one undefined-length item.
        input.extend_from_slice(&[
            0x10, 0, 0x02, 0x10, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        input.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        input.extend(el(0x0010, 0x0020, b"LO", b"850312-1231 "));
        input.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        input.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        input.extend(el(0x0020, 0x0011, b"IS", b"1 "));
        let whole = run(&input, input.len());
        for chunk in [1, 3, 7] {
            assert_eq!(run(&input, chunk), whole, "fragments of {chunk} bytes");
        }
        let text = String::from_utf8_lossy(&whole);
        assert!(!text.contains("Svensson") && !text.contains("1231") && !text.contains("19850312"));
        assert!(text.contains("PSN-") && text.contains("YES") && text.contains("70"));
        assert!(text.contains(DEIDENTIFICATION_METHOD));
    }

    #[test]
    fn a_study_id_is_kept_and_pseudonyms_are_stable() {
        assert!(is_study_id("KS-001"));
        assert!(!is_study_id("19850312-1231"));
        assert_eq!(
            pseudonym(b"k", "19850312-1231"),
            pseudonym(b"k", "19850312-1231 ")
        );
        assert_ne!(
            pseudonym(b"k", "19850312-1231"),
            pseudonym(b"j", "19850312-1231")
        );
        let out = run(&el(0x0010, 0x0020, b"LO", b"KS-001"), 2);
        assert!(String::from_utf8_lossy(&out).contains("KS-001"));
    }

    #[test]
    fn a_truncated_data_set_is_refused() {
        let input = el(0x0008, 0x0060, b"CS", b"PT");
        let mut f = Filter::new(Vec::new(), LE, b"key");
        f.push(&input[..input.len() - 1]).unwrap();
        assert!(f.finish().is_err());
    }
}
