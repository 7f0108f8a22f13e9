//! Shared fixtures: dates, lab results, biopsies and pathology reports.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use protocol::journey::*;
use protocol::labs::{Analyte, LabResult, SampleOrigin, lab_result};
use protocol::records::{ArchivalBiopsy, IhcScore, IshResult};

/// A date.
pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A UTC time.
pub fn t(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

/// A checked lab result.
pub fn lab(a: Analyte, value: f64, unit: &str, at: DateTime<Utc>) -> LabResult {
    lab_result(a, value, unit, None, None, at, SampleOrigin::Study).unwrap()
}

/// The biopsy time used by the biopsy tests.
pub fn biopsy_at() -> DateTime<Utc> {
    t(2026, 3, 10, 9, 0)
}

/// INR, platelets and APTT taken two days before the biopsy.
pub fn bleeding_labs(inr: f64, plt: f64, aptt: f64) -> Vec<LabResult> {
    let at = t(2026, 3, 8, 8, 0);
    vec![
        lab(Analyte::Inr, inr, "", at),
        lab(Analyte::Platelets, plt, "10^9/L", at),
        lab(Analyte::Aptt, aptt, "s", at),
    ]
}

/// A fresh PET-guided biopsy of the first proposed lesion, no anticoagulation.
pub fn fresh(id: &str, lesion: &str) -> FreshBiopsy {
    FreshBiopsy {
        biopsy_id: id.into(),
        lesion_id: lesion.into(),
        proposed_lesion_ids: vec![lesion.into(), "L9".into()],
        choice_reason: None,
        performed_at: biopsy_at(),
        anticoagulation: Anticoagulation::None,
        complications: vec![],
    }
}

/// An archival sample taken on `taken`, used on `used`.
pub fn archival(id: &str, taken: NaiveDate, used: NaiveDate) -> ArchivalSample {
    ArchivalSample {
        biopsy_id: id.into(),
        record: ArchivalBiopsy {
            biopsy_date: taken,
            lesion_id: Some("L2".into()),
            site_description: "liver segment 6".into(),
            systemic_therapy_since: false,
            her2_targeted_therapy_since: false,
            radiotherapy_to_lesion_since: false,
        },
        used_on: used,
        pet1_on: None,
        lines_since: Vec::new(),
        deviation_id: None,
    }
}

/// An IHC read with consistent staining for the score.
pub fn read(ihc: IhcScore) -> Her2Read {
    protocol::testing::her2_read(ihc)
}

/// An IHC 2+ read with a reported ISH result.
pub fn two_plus(ish: IshResult) -> Her2Read {
    Her2Read {
        ish: Some(IshTest {
            ratio: None,
            mean_her2_copies: None,
            reported: Some(ish),
        }),
        ..read(IhcScore::TwoPlus)
    }
}

/// A local read of a specimen.
pub fn report(specimen: &str, biopsy: &str, finding: SpecimenFinding) -> SpecimenReport {
    SpecimenReport {
        specimen_id: specimen.into(),
        biopsy_id: biopsy.into(),
        read: ReadKind::Local,
        reader: "path-ks-1".into(),
        reported_on: d(2026, 3, 17),
        finding,
    }
}

/// A local HER2 read of a specimen.
pub fn her2(specimen: &str, biopsy: &str, r: Her2Read) -> SpecimenReport {
    report(specimen, biopsy, SpecimenFinding::Her2(r))
}
