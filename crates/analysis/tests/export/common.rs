//! Shared fixtures: the synthetic study, cut off 60 days after the first consent.

use analysis::source::{ParticipantSource, StudyInfo};
use analysis::testing::{arm1_participant, consent_time, study_info};
use chrono::Duration;

/// The study facts at the cut-off.
pub fn info() -> StudyInfo {
    study_info(consent_time(1) + Duration::days(60), 5000)
}

/// Arm-1 participant KS-00n.
pub fn participant(n: u16) -> ParticipantSource {
    arm1_participant("KS", n, consent_time(n))
}

/// The hash of the event whose JSON names `entry_id` as the entry it recorded.
pub fn hash_of_entry(src: &ParticipantSource, entry_id: &str) -> String {
    let needle = format!("\"entry_id\":\"{entry_id}\"");
    src.events
        .iter()
        .find(|e| serde_json::to_string(&e.event).unwrap().contains(&needle))
        .map(|e| e.hash.clone())
        .expect("an event recorded the entry")
}

/// Parses RFC 4180 text into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}
