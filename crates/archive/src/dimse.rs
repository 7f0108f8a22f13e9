//! DIMSE command sets (PS3.7 §9.3, §E): the small group-0000 data sets that carry C-STORE
//! and C-ECHO requests and responses.
//!
//! Command sets are always encoded in Implicit VR Little Endian (PS3.7 §6.3.1), whatever
//! the presentation context, so they are read and written here directly: each element is
//! a tag (group, element: two little-endian u16), a little-endian u32 length and the
//! value. Only the fields of the C-STORE and C-ECHO services are kept; others are skipped.

use crate::error::IngestErrorKind;

/// CommandField (0000,0100) of a C-STORE-RQ.
pub const C_STORE_RQ: u16 = 0x0001;
/// CommandField (0000,0100) of a C-STORE-RSP.
pub const C_STORE_RSP: u16 = 0x8001;
/// CommandField (0000,0100) of a C-ECHO-RQ.
pub const C_ECHO_RQ: u16 = 0x0030;
/// CommandField (0000,0100) of a C-ECHO-RSP.
pub const C_ECHO_RSP: u16 = 0x8030;
/// CommandDataSetType (0000,0800) meaning "no data set follows".
pub const NO_DATA_SET: u16 = 0x0101;
/// CommandDataSetType (0000,0800) used when a data set follows (any other value does).
pub const DATA_SET_PRESENT: u16 = 0x0000;

/// DIMSE status codes used by the receiver (PS3.4 Table B.2-1, PS3.7 Annex C).
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0x0000;
    /// Refused: SOP Class not supported.
    pub const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
    /// Unrecognized operation.
    pub const UNRECOGNIZED_OPERATION: u16 = 0x0211;
    /// Refused: out of resources (the archive could not store the object).
    pub const OUT_OF_RESOURCES: u16 = 0xA700;
    /// Error: data set does not match SOP class (or the UIDs of the command).
    pub const DATA_SET_DOES_NOT_MATCH: u16 = 0xA900;
    /// Error: cannot understand (the data set cannot be parsed).
    pub const CANNOT_UNDERSTAND: u16 = 0xC000;
}

const AFFECTED_SOP_CLASS_UID: u16 = 0x0002;
const COMMAND_FIELD: u16 = 0x0100;
const MESSAGE_ID: u16 = 0x0110;
const MESSAGE_ID_BEING_RESPONDED_TO: u16 = 0x0120;
const PRIORITY: u16 = 0x0700;
const COMMAND_DATA_SET_TYPE: u16 = 0x0800;
const STATUS: u16 = 0x0900;
const ERROR_COMMENT: u16 = 0x0902;
const AFFECTED_SOP_INSTANCE_UID: u16 = 0x1000;

/// The fields of a C-STORE or C-ECHO command set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// CommandField (0000,0100).
    pub command_field: u16,
    /// AffectedSOPClassUID (0000,0002).
    pub affected_sop_class_uid: Option<String>,
    /// MessageID (0000,0110), in requests.
    pub message_id: Option<u16>,
    /// MessageIDBeingRespondedTo (0000,0120), in responses.
    pub message_id_being_responded_to: Option<u16>,
    /// Priority (0000,0700), in C-STORE requests.
    pub priority: Option<u16>,
    /// CommandDataSetType (0000,0800): [`NO_DATA_SET`] or a value meaning one follows.
    pub data_set_type: u16,
    /// Status (0000,0900), in responses.
    pub status: Option<u16>,
    /// ErrorComment (0000,0902), in failure responses.
    pub error_comment: Option<String>,
    /// AffectedSOPInstanceUID (0000,1000).
    pub affected_sop_instance_uid: Option<String>,
}

impl Command {
    /// Whether a data set follows this command.
    pub fn has_data_set(&self) -> bool {
        self.data_set_type != NO_DATA_SET
    }

    /// The response to this request with `status` and, for failures, a comment.
    pub fn response(&self, status: u16, error_comment: Option<String>) -> Command {
        Command {
            command_field: self.command_field | 0x8000,
            affected_sop_class_uid: self.affected_sop_class_uid.clone(),
            message_id: None,
            message_id_being_responded_to: self.message_id,
            priority: None,
            data_set_type: NO_DATA_SET,
            status: Some(status),
            error_comment,
            affected_sop_instance_uid: self.affected_sop_instance_uid.clone(),
        }
    }

    /// Reads a command set encoded in Implicit VR Little Endian.
    pub fn parse(bytes: &[u8]) -> Result<Command, IngestErrorKind> {
        let mut cmd = Command::default();
        let mut command_field = None;
        let mut data_set_type = None;
        let mut pos = 0usize;
        while pos < bytes.len() {
            let header = bytes
                .get(pos..pos + 8)
                .ok_or_else(|| protocol(format!("command set truncated at byte {pos}")))?;
            let group = u16::from_le_bytes([header[0], header[1]]);
            let element = u16::from_le_bytes([header[2], header[3]]);
            let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
            let value = bytes
                .get(pos + 8..(pos + 8).saturating_add(len))
                .ok_or_else(|| {
                    protocol(format!(
                        "element (0000,{element:04X}) of {len} bytes overruns the command set"
                    ))
                })?;
            if group != 0x0000 {
                return Err(protocol(format!(
                    "element ({group:04X},{element:04X}) outside the command group"
                )));
            }
            match element {
                AFFECTED_SOP_CLASS_UID => cmd.affected_sop_class_uid = Some(text(value)),
                COMMAND_FIELD => command_field = Some(us(element, value)?),
                MESSAGE_ID => cmd.message_id = Some(us(element, value)?),
                MESSAGE_ID_BEING_RESPONDED_TO => {
                    cmd.message_id_being_responded_to = Some(us(element, value)?)
                }
                PRIORITY => cmd.priority = Some(us(element, value)?),
                COMMAND_DATA_SET_TYPE => data_set_type = Some(us(element, value)?),
                STATUS => cmd.status = Some(us(element, value)?),
                ERROR_COMMENT => cmd.error_comment = Some(text(value)),
                AFFECTED_SOP_INSTANCE_UID => cmd.affected_sop_instance_uid = Some(text(value)),
                _ => {}
            }
            pos += 8 + len;
        }
        cmd.command_field =
            command_field.ok_or_else(|| protocol("CommandField (0000,0100) missing".into()))?;
        cmd.data_set_type = data_set_type
            .ok_or_else(|| protocol("CommandDataSetType (0000,0800) missing".into()))?;
        Ok(cmd)
    }

    /// Encodes the command set in Implicit VR Little Endian, CommandGroupLength first.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(uid) = &self.affected_sop_class_uid {
            put(&mut body, AFFECTED_SOP_CLASS_UID, &padded(uid, b'\0'));
        }
        put(&mut body, COMMAND_FIELD, &self.command_field.to_le_bytes());
        let optional_us = [
            (MESSAGE_ID, self.message_id),
            (
                MESSAGE_ID_BEING_RESPONDED_TO,
                self.message_id_being_responded_to,
            ),
            (PRIORITY, self.priority),
            (COMMAND_DATA_SET_TYPE, Some(self.data_set_type)),
            (STATUS, self.status),
        ];
        for (element, value) in optional_us {
            if let Some(v) = value {
                put(&mut body, element, &v.to_le_bytes());
            }
        }
        if let Some(comment) = &self.error_comment {
            put(
                &mut body,
                ERROR_COMMENT,
                &padded(&long_string(comment), b' '),
            );
        }
        if let Some(uid) = &self.affected_sop_instance_uid {
            put(&mut body, AFFECTED_SOP_INSTANCE_UID, &padded(uid, b'\0'));
        }
        let mut out = Vec::with_capacity(body.len() + 12);
        put(&mut out, 0x0000, &(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }
}

fn protocol(message: String) -> IngestErrorKind {
    IngestErrorKind::Protocol(message)
}

fn us(element: u16, value: &[u8]) -> Result<u16, IngestErrorKind> {
    match value {
        [a, b] => Ok(u16::from_le_bytes([*a, *b])),
        _ => Err(protocol(format!(
            "element (0000,{element:04X}) should hold 2 bytes, holds {}",
            value.len()
        ))),
    }
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_string()
}

fn put(out: &mut Vec<u8>, element: u16, value: &[u8]) {
    out.extend_from_slice(&0x0000u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

/// DICOM values have an even length (PS3.5 §7.1.1): UIDs are padded with NUL, text with
/// a space.
fn padded(s: &str, pad: u8) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(pad);
    }
    v
}

/// An ErrorComment is a LO: at most 64 characters of the default repertoire.
fn long_string(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '\\' {
                c
            } else {
                '?'
            }
        })
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_rq() -> Command {
        Command {
            command_field: C_STORE_RQ,
            affected_sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.128".into()),
            message_id: Some(7),
            priority: Some(0),
            data_set_type: DATA_SET_PRESENT,
            affected_sop_instance_uid: Some("1.2.3.45".into()),
            ..Command::default()
        }
    }

    #[test]
    fn encoding_round_trips_and_has_even_values() {
        let rq = store_rq();
        let bytes = rq.encode();
        assert_eq!(bytes.len() % 2, 0);
        // CommandGroupLength counts every byte after its own element.
        let group_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        assert_eq!(group_len as usize, bytes.len() - 12);
        assert_eq!(Command::parse(&bytes).unwrap(), rq);
    }

    #[test]
    fn response_answers_the_message_id() {
        let rsp = store_rq().response(status::OUT_OF_RESOURCES, Some("disk full é".into()));
        let parsed = Command::parse(&rsp.encode()).unwrap();
        assert_eq!(parsed.command_field, C_STORE_RSP);
        assert_eq!(parsed.message_id_being_responded_to, Some(7));
        assert_eq!(parsed.status, Some(0xA700));
        assert!(!parsed.has_data_set());
        assert_eq!(parsed.error_comment.as_deref(), Some("disk full ?"));
    }

    #[test]
    fn truncated_or_foreign_command_sets_are_refused() {
        let bytes = store_rq().encode();
        assert!(Command::parse(&bytes[..bytes.len() - 3]).is_err());
        assert!(Command::parse(&[0x08, 0x00, 0x18, 0x00, 0, 0, 0, 0]).is_err());
        assert!(Command::parse(&[]).is_err(), "no CommandField");
    }
}
