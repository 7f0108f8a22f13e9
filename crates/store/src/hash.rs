//! The hash chain: the exact bytes each event's hash is computed over.
//!
//! All events form one global chain in sequence order. An event's hash is the lowercase
//! hex SHA-256 of this byte string:
//!
//! ```text
//! field("her2ex-event-v1")          format tag, so a future format cannot be confused
//! field(prev_hash)                  previous event's hash; 64 '0's for seq 1
//! field(seq)                        decimal ASCII, e.g. "42"
//! field(stream)
//! field(version)                    decimal ASCII
//! field(kind)
//! field(canonical_json(payload))
//! field(actor)
//! field(role)
//! optional(site)
//! field(recorded_at)                RFC 3339 UTC, exactly 6 fractional digits, "Z":
//!                                   "2026-11-25T09:02:15.123456Z"
//! optional(reason)
//!
//! field(s)    = len(s) as 8-byte big-endian unsigned integer, then the UTF-8 bytes of s
//! optional(o) = byte 0x00 if absent; byte 0x01 then field(s) if present
//! ```
//!
//! Length prefixes make the encoding unambiguous whatever the fields contain; the presence
//! byte keeps an absent site apart from an empty one.
//!
//! `canonical_json` writes a JSON value with no whitespace and object keys in ascending
//! order of their UTF-8 bytes (at every depth); strings are escaped as `serde_json` escapes
//! them (`"`, `\`, and control characters; everything else as raw UTF-8); numbers as
//! `serde_json` prints them. The store keeps the payload in exactly this text, so what is
//! read back re-hashes to the stored hash.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::model::EventMeta;

/// The `prev_hash` of the first event in the log.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Tag that opens every hashed byte string.
const FORMAT_TAG: &str = "her2ex-event-v1";

/// The fields of one event that its hash covers.
#[derive(Clone, Copy, Debug)]
pub struct HashInput<'a> {
    /// Previous event's hash.
    pub prev_hash: &'a str,
    /// Global sequence number.
    pub seq: i64,
    /// Stream name.
    pub stream: &'a str,
    /// Version in the stream.
    pub version: i64,
    /// Event kind.
    pub kind: &'a str,
    /// Canonical JSON of the payload (see [`canonical_json`]).
    pub payload_json: &'a str,
    /// Who, when, where, why. `recorded_at` must already be truncated to microseconds.
    pub meta: &'a EventMeta,
}

/// Computes an event's hash as lowercase hex.
pub fn event_hash(input: &HashInput<'_>) -> String {
    let mut h = Sha256::new();
    field(&mut h, FORMAT_TAG);
    field(&mut h, input.prev_hash);
    field(&mut h, &input.seq.to_string());
    field(&mut h, input.stream);
    field(&mut h, &input.version.to_string());
    field(&mut h, input.kind);
    field(&mut h, input.payload_json);
    field(&mut h, &input.meta.actor);
    field(&mut h, &input.meta.role);
    optional(&mut h, input.meta.site.as_deref());
    field(&mut h, &format_timestamp(input.meta.recorded_at));
    optional(&mut h, input.meta.reason.as_deref());
    hex::encode(h.finalize())
}

fn field(h: &mut Sha256, s: &str) {
    // usize always fits in u64 on the platforms Rust supports.
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

fn optional(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            field(h, s);
        }
    }
}

/// Truncates a time to whole microseconds: the precision the store keeps.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Formats a time as stored and hashed: RFC 3339 UTC with exactly six fractional digits,
/// truncating anything finer. Fixed width for years 0–9999, so text order is time order.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    truncate_to_micros(t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored timestamp.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// Writes a JSON value in canonical form (see the module documentation).
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map keeps insertion order when its
            // `preserve_order` feature is on somewhere in the build.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serialising a &str cannot fail; the fallback keeps this path free of panics.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn meta() -> EventMeta {
        EventMeta {
            actor: "nurse1".into(),
            role: "site_nurse".into(),
            site: Some("SE01".into()),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 2, 15).unwrap(),
            reason: None,
        }
    }

    fn input<'a>(meta: &'a EventMeta, payload: &'a str) -> HashInput<'a> {
        HashInput {
            prev_hash: GENESIS_HASH,
            seq: 1,
            stream: "SE01-001",
            version: 1,
            kind: "Registered",
            payload_json: payload,
            meta,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_without_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, 2.5, null], "y": "å\"\n"}, "A": true});
        assert_eq!(
            canonical_json(&v),
            r#"{"A":true,"a":{"y":"å\"\n","z":[1,2.5,null]},"b":1}"#
        );
    }

    #[test]
    fn canonical_json_round_trips_through_parsing() {
        let v = json!({"weight_kg": 71.3, "n": -4, "big": 18446744073709551615u64, "s": "😀"});
        let text = canonical_json(&v);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&back), text);
    }

    #[test]
    fn every_float_survives_a_round_trip_through_the_stored_text() {
        // SUV scale factors and PET metrics carry all 17 significant digits; the chain
        // is verified by re-parsing the stored text, so parsing must be exact.
        let mut x: f64 = 0.001548539537019394;
        for i in 0..20_000 {
            let v = json!({ "f": x, "g": 1.0 / x, "h": x * 1e-300 });
            let text = canonical_json(&v);
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(canonical_json(&back), text, "case {i}");
            x = x * 1.618_033_988_749_895 % 97.0 + 1e-9;
        }
    }

    #[test]
    fn timestamps_have_exactly_six_fractional_digits_and_truncate() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(format_timestamp(t), "2026-01-02T03:04:05.123456Z");
        let whole = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_timestamp(whole), "2026-01-02T03:04:05.000000Z");
        assert_eq!(
            parse_timestamp("2026-01-02T03:04:05.123456Z").unwrap(),
            truncate_to_micros(t)
        );
    }

    #[test]
    fn hash_is_known_hex_and_changes_with_every_field() {
        let m = meta();
        let base = event_hash(&input(&m, "{}"));
        assert_eq!(base.len(), 64);
        assert!(
            base.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );

        let mut other = m.clone();
        other.actor = "nurse2".into();
        assert_ne!(event_hash(&input(&other, "{}")), base);
        assert_ne!(event_hash(&input(&m, "{\"a\":1}")), base);
        let mut no_site = m.clone();
        no_site.site = None;
        let mut empty_site = m.clone();
        empty_site.site = Some(String::new());
        assert_ne!(
            event_hash(&input(&no_site, "{}")),
            event_hash(&input(&empty_site, "{}"))
        );
        let mut later = m.clone();
        later.recorded_at += chrono::Duration::microseconds(1);
        assert_ne!(event_hash(&input(&later, "{}")), base);
        let mut moved = input(&m, "{}");
        moved.seq = 2;
        assert_ne!(event_hash(&moved), base);
    }

    #[test]
    fn length_prefixes_keep_field_boundaries() {
        // Moving a character from one field to the next must change the hash.
        let m = meta();
        let mut a = input(&m, "{}");
        a.stream = "ab";
        a.kind = "c";
        let mut b = input(&m, "{}");
        b.stream = "a";
        b.kind = "bc";
        assert_ne!(event_hash(&a), event_hash(&b));
    }
}
