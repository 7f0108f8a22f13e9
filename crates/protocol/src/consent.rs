//! The consent gate (PROTOCOL §4).
//!
//! No study procedure (IMP administration / PET, study biopsy, study labs,
//! pregnancy test for the study) may be dated before the signed informed
//! consent. Recording such a procedure is refused with `GATE_CONSENT`. A past
//! fact that really happened before consent and is documented afterwards is
//! recorded as it happened when the user marks it `late_entry_of_fact`; the
//! gate then returns a **major deviation** to record beside it, so the record
//! tells the truth and the breach is visible to the monitor.
//!
//! The gate compares with the *first* signed consent: re-consent to an amended
//! form does not make procedures between the two consents unconsented.

use chrono::{DateTime, Utc};

use crate::participant::Participant;
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Checks a study procedure named `what` dated `at` against the consent gate.
///
/// Returns `Ok(None)` when the procedure is after consent, `Ok(Some(deviation))`
/// for a late entry of a real pre-consent fact, and a `GATE_CONSENT` refusal
/// otherwise (also when no consent is on record). `entry_id` links the
/// deviation to the entry it concerns.
pub fn consent_gate(
    p: &Participant,
    s: &Settings,
    what: &str,
    at: DateTime<Utc>,
    late_entry_of_fact: bool,
    entry_id: Option<&str>,
) -> Result<Option<Deviation>, Refusal> {
    let Some(consent) = p.first_consent() else {
        return Err(Refusal::new(
            Rule::GATE_CONSENT,
            format!("{what}: no signed informed consent on record."),
        ));
    };
    if at >= consent.signed_at {
        return Ok(None);
    }
    let description = format!(
        "{what} dated {} is before the signed informed consent ({}).",
        s.local_text(at),
        s.local_text(consent.signed_at)
    );
    if !late_entry_of_fact {
        return Err(Refusal::new(
            Rule::GATE_CONSENT,
            format!("{description} No study procedure may precede consent."),
        )
        .with_hint(
            "If it was a routine-care sample, record it as such. If the study procedure really \
             took place before consent, record it with `late_entry_of_fact` set: a major \
             deviation will be raised.",
        ));
    }
    Ok(Some(Deviation {
        deviation_id: format!("dev-{}", p.deviations.len() + 1),
        severity: DeviationSeverity::Major,
        rule: Rule::GATE_CONSENT,
        description,
        occurred_at: at,
        entry_id: entry_id.map(str::to_owned),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::participant::Consent;
    use chrono::TimeZone;

    fn consented() -> Participant {
        Participant {
            consents: vec![Consent {
                form_version: "1.0".into(),
                signed_at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
                age_at_consent: None,
                age_min: 54,
                age_max: 55,
            }],
            ..Participant::default()
        }
    }

    #[test]
    fn at_the_minute_of_consent_is_allowed() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        assert_eq!(
            consent_gate(&consented(), &Settings::default(), "PET", t, false, None),
            Ok(None)
        );
    }

    #[test]
    fn one_minute_before_is_refused_or_a_major_deviation() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 8, 59, 0).unwrap();
        let r =
            consent_gate(&consented(), &Settings::default(), "PET", t, false, None).unwrap_err();
        assert_eq!(r.rule, Rule::GATE_CONSENT);
        let d = consent_gate(
            &consented(),
            &Settings::default(),
            "PET",
            t,
            true,
            Some("pet-1"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(d.severity, DeviationSeverity::Major);
        assert_eq!(d.deviation_id, "dev-1");
        assert_eq!(d.entry_id.as_deref(), Some("pet-1"));
    }

    #[test]
    fn without_consent_everything_is_refused() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        let r = consent_gate(
            &Participant::default(),
            &Settings::default(),
            "PET",
            t,
            true,
            None,
        )
        .unwrap_err();
        assert_eq!(r.rule, Rule::GATE_CONSENT);
    }
}
