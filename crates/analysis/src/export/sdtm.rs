//! [`SdtmWriter`]: SDTM-like CSV datasets (DM, AE, TU, TR, RS, EC, DV), one row per
//! record, with SDTM variable names where SDTM has them (her2ex additions are marked in
//! the data dictionary), ISO 8601 dates and RFC 4180 quoting.
//!
//! Like the ODM file these are snapshots: current values only. `--SEQ` numbers count a
//! participant's rows of one dataset from 1 in the order written, which is fixed
//! (recording order, then lesion and candidate order), so the same cut-off gives the same
//! numbers.

use std::io::Write;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use protocol::imaging::PetTimepoint;
use protocol::participant::current;
use protocol::{Participant, Sex};
use serde::Serialize;

use super::csv::write_row;
pub use super::sdtm_defs::{DATASETS, Dataset, Variable, write_define};
use super::{ExportCounts, ExportError};
use crate::source::{ParticipantSource, StudyInfo};

/// The seven dataset outputs, one writer each.
#[derive(Debug)]
pub struct SdtmFiles<W> {
    /// Demographics.
    pub dm: W,
    /// Adverse events.
    pub ae: W,
    /// Tumour identification.
    pub tu: W,
    /// Tumour results: CT diameters and PET SUVmax, SUVpeak, MTV.
    pub tr: W,
    /// RECIST 1.1 responses.
    pub rs: W,
    /// Exposure: IMP and T-DXd administrations.
    pub ec: W,
    /// Protocol deviations.
    pub dv: W,
}

impl<W> SdtmFiles<W> {
    /// The writers in the order of [`DATASETS`].
    fn all_mut(&mut self) -> [&mut W; 7] {
        [
            &mut self.dm,
            &mut self.ae,
            &mut self.tu,
            &mut self.tr,
            &mut self.rs,
            &mut self.ec,
            &mut self.dv,
        ]
    }
}

/// One row: (variable, value) pairs; variables not named stay empty.
type Row = Vec<(&'static str, String)>;

/// Writes the SDTM-like datasets, one participant at a time.
pub struct SdtmWriter<W: Write> {
    files: SdtmFiles<W>,
    study: String,
    counts: ExportCounts,
}

impl<W: Write> SdtmWriter<W> {
    /// Writes each dataset's header row.
    pub fn new(mut files: SdtmFiles<W>, info: &StudyInfo) -> Result<Self, ExportError> {
        for (d, w) in DATASETS.iter().zip(files.all_mut()) {
            write_row(w, &d.columns())?;
        }
        Ok(SdtmWriter {
            files,
            study: info.study_oid.clone(),
            counts: ExportCounts::default(),
        })
    }

    /// Writes one participant's rows in every dataset.
    pub fn participant(&mut self, src: &ParticipantSource) -> Result<(), ExportError> {
        if src.events.is_empty() {
            return Err(ExportError::Invalid(format!(
                "participant {} has no events",
                src.study_id
            )));
        }
        let p = src.participant();
        let rows: [Vec<Row>; 7] = [
            vec![dm(&p, src)],
            ae(&p),
            tu(&p),
            tr(&p),
            rs(&p),
            ec(&p),
            dv(&p),
        ];
        let usubjid = format!("{}-{}", self.study, src.study_id);
        for ((d, w), rows) in DATASETS.iter().zip(self.files.all_mut()).zip(rows) {
            let seq_var = format!("{}SEQ", d.domain);
            for (i, row) in rows.into_iter().enumerate() {
                let cells: Vec<String> = d
                    .variables
                    .iter()
                    .map(|var| match var.name {
                        "STUDYID" => self.study.clone(),
                        "DOMAIN" => d.domain.to_string(),
                        "USUBJID" => usubjid.clone(),
                        n if n == seq_var => (i + 1).to_string(),
                        n => row
                            .iter()
                            .find(|(k, _)| *k == n)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
                write_row(w, &cells)?;
                self.counts.data += 1;
            }
        }
        self.counts.participants += 1;
        Ok(())
    }

    /// What has been written so far (data = rows over all datasets).
    pub fn counts(&self) -> ExportCounts {
        self.counts
    }

    /// Flushes the datasets and hands the writers back.
    pub fn finish(mut self) -> Result<SdtmFiles<W>, ExportError> {
        for w in self.files.all_mut() {
            w.flush()?;
        }
        Ok(self.files)
    }
}

fn dm(p: &Participant, src: &ParticipantSource) -> Row {
    let sex = match p.sex {
        Some(Sex::Female) => "F",
        Some(Sex::Male) => "M",
        // SDTM codes F, M, U (unknown) and UNDIFFERENTIATED; "other or not stated" is U.
        Some(Sex::Other) | None => "U",
    };
    let arm = p.allocation.as_ref().and_then(|a| a.arm());
    vec![
        ("SUBJID", src.study_id.clone()),
        ("SITEID", src.site.clone()),
        (
            "BRTHDTC",
            p.year_of_birth
                .map(|y| format!("{y:04}"))
                .unwrap_or_default(),
        ),
        ("SEX", sex.into()),
        (
            "RFICDTC",
            p.first_consent()
                .map(|c| dtc(c.signed_at))
                .unwrap_or_default(),
        ),
        (
            "RFSTDTC",
            p.enrolment
                .as_ref()
                .map(|e| dtc(e.enrolled_at))
                .unwrap_or_default(),
        ),
        ("DTHDTC", p.died_on.map(date).unwrap_or_default()),
        (
            "DTHFL",
            if p.died_on.is_some() {
                "Y".into()
            } else {
                String::new()
            },
        ),
        (
            "ARMCD",
            arm.map(|a| code(&a).replace(' ', "")).unwrap_or_default(),
        ),
        (
            "ARM",
            arm.map(|a| match a {
                protocol::Arm::Arm1 => "HER2-expressing: trastuzumab deruxtecan".to_string(),
                protocol::Arm::Arm2 => "HER2-zero: safety follow-up".to_string(),
            })
            .unwrap_or_default(),
        ),
        ("DSSTATE", p.state.name().to_string()),
    ]
}

fn ae(p: &Participant) -> Vec<Row> {
    current(&p.adverse_events)
        .map(|e| {
            let (a, c) = (&e.value.ae, &e.value.coded);
            vec![
                ("AESPID", e.entry_id.clone()),
                (
                    "AETERM",
                    a.verbatim.clone().unwrap_or_else(|| c.term.clone()),
                ),
                ("AEDECOD", c.term.clone()),
                ("AEPTCD", a.meddra_code.to_string()),
                ("AEBODSYS", c.soc.clone()),
                ("AETOXGR", a.grade.to_string()),
                ("AESER", yn(c.serious)),
                ("AERELIMP", code(&a.relation_imp)),
                ("AEREL", code(&a.relation_tdxd)),
                ("AEACN", code(&a.action_tdxd)),
                ("AEOUT", code(&a.outcome)),
                ("AESTDTC", date(a.onset)),
                ("AEENDTC", a.resolved.map(date).unwrap_or_default()),
                ("AEDTC", dtc(a.site_aware_at)),
                ("AEREASND", e.correction_reason.clone().unwrap_or_default()),
            ]
        })
        .collect()
}

fn tu(p: &Participant) -> Vec<Row> {
    let mut out = Vec::new();
    if let Some(b) = p.tumour_baseline() {
        for l in &b.value.lesions {
            out.push(vec![
                ("TULNKID", l.id.clone()),
                ("TUTESTCD", "TUMIDENT".into()),
                ("TUTEST", "Tumor Identification".into()),
                ("TUORRES", code(&l.role).replace(' ', "-")),
                ("TULOC", l.organ.clone()),
                ("TUMETHOD", "CT".into()),
                ("VISIT", "baseline".into()),
                ("TUDTC", date(b.value.scan_date)),
            ]);
        }
    }
    for (tp, q) in pet_quantifications(p) {
        for c in &q.candidates {
            out.push(vec![
                ("TULNKID", pet_lesion(tp, c.number)),
                ("TUTESTCD", "TUMIDENT".into()),
                ("TUTEST", "Tumor Identification".into()),
                (
                    "TUORRES",
                    if c.her2_avid { "HER2 AVID" } else { "NOT AVID" }.into(),
                ),
                ("TUMETHOD", "PET".into()),
                ("VISIT", pet_visit(tp).into()),
                (
                    "TUDTC",
                    q.header
                        .scan_at
                        .map(dtc)
                        .unwrap_or_else(|| dtc(q.quantified_at)),
                ),
            ]);
        }
    }
    out
}

fn tr(p: &Participant) -> Vec<Row> {
    let mut out = Vec::new();
    let diam = |lnk: &str, mm: f64, visit: &str, day: NaiveDate, grp: &str| {
        let mut r = measure(lnk, "LDIAM", "Longest Diameter", mm, "mm", "CT");
        r.extend([
            ("VISIT", visit.to_string()),
            ("TRDTC", date(day)),
            ("TRGRPID", grp.to_string()),
        ]);
        r
    };
    if let Some(b) = p.tumour_baseline() {
        for l in &b.value.lesions {
            if let Some(mm) = l.diameter_mm {
                out.push(diam(&l.id, mm, "baseline", b.value.scan_date, &b.entry_id));
            }
        }
    }
    for a in p.current_tumour_assessments() {
        for t in &a.value.targets {
            if let Some(mm) = t.diameter_mm {
                out.push(diam(
                    &t.lesion,
                    mm,
                    "follow_up",
                    a.value.scan_date,
                    &a.entry_id,
                ));
            }
        }
    }
    for (tp, q) in pet_quantifications(p) {
        let when = q
            .header
            .scan_at
            .map(dtc)
            .unwrap_or_else(|| dtc(q.quantified_at));
        for c in &q.candidates {
            let lnk = pet_lesion(tp, c.number);
            for (cd, name, value, unit) in [
                ("SUVMAX", "SUVmax (body weight)", c.suv_max, ""),
                ("SUVPEAK", "SUVpeak (body weight)", c.suv_peak, ""),
                ("MTV", "Metabolic Tumour Volume", c.mtv_ml, "mL"),
            ] {
                let mut r = measure(&lnk, cd, name, value, unit, "PET");
                r.extend([
                    ("VISIT", pet_visit(tp).into()),
                    ("TRDTC", when.clone()),
                    ("TRGRPID", q.quantification_id.clone()),
                ]);
                out.push(r);
            }
        }
    }
    out
}

fn measure(lnk: &str, cd: &str, name: &str, value: f64, unit: &str, method: &str) -> Row {
    vec![
        ("TRLNKID", lnk.to_string()),
        ("TRTESTCD", cd.to_string()),
        ("TRTEST", name.to_string()),
        ("TRORRES", num(value)),
        ("TRORRESU", unit.to_string()),
        ("TRSTRESN", num(value)),
        ("TRSTRESU", unit.to_string()),
        ("TRMETHOD", method.to_string()),
    ]
}

fn rs(p: &Participant) -> Vec<Row> {
    let Some(e) = p.response_evaluation() else {
        return Vec::new();
    };
    let row = |grp: &str, cd: &str, name: &str, res: String, day: String| {
        vec![
            ("RSLNKGRP", grp.to_string()),
            ("RSTESTCD", cd.to_string()),
            ("RSTEST", name.to_string()),
            ("RSORRES", res),
            ("RSEVAL", format!("RECIST 1.1 engine {}", e.engine_version)),
            ("RSDTC", day),
        ]
    };
    let mut out: Vec<Row> = e
        .time_points
        .iter()
        .map(|t| {
            row(
                &t.assessment_id,
                "OVRLRESP",
                "Overall Response",
                code(&t.overall),
                date(t.scan_date),
            )
        })
        .collect();
    let best = &e.best_confirmed;
    let day = best.date.map(date).unwrap_or_default();
    let name = "Best Overall Response (confirmed)";
    out.push(row("", "BESTRESP", name, code(&best.response), day));
    out
}

fn ec(p: &Participant) -> Vec<Row> {
    let mut out: Vec<Row> = current(&p.imp_administrations)
        .map(|e| {
            vec![
                ("ECSPID", e.entry_id.clone()),
                ("ECTRT", "HER2-PET IMP".into()),
                ("ECCAT", "IMP".into()),
                ("ECDOSE", num(e.value.activity_mbq)),
                ("ECDOSU", "MBq".into()),
                ("ECROUTE", "INTRAVENOUS".into()),
                ("ECLVL", code(&e.value.timepoint)),
                ("ECSTDTC", dtc(e.value.injected_at)),
            ]
        })
        .collect();
    for (i, r) in p.tdxd_records.iter().enumerate() {
        let a = &r.administration;
        let adj = [a.reduction_reason.as_deref(), a.delay_reason.as_deref()];
        out.push(vec![
            ("ECSPID", format!("tdxd.{}", i + 1)),
            ("ECTRT", "TRASTUZUMAB DERUXTECAN".into()),
            ("ECCAT", "STUDY TREATMENT".into()),
            ("ECDOSE", num(a.dose_mg)),
            ("ECDOSU", "mg".into()),
            ("ECROUTE", "INTRAVENOUS".into()),
            ("ECLVL", code(&a.dose_level)),
            ("ECSTDTC", date(a.date)),
            (
                "ECADJ",
                adj.into_iter().flatten().collect::<Vec<_>>().join("; "),
            ),
        ]);
    }
    out
}

fn dv(p: &Participant) -> Vec<Row> {
    p.deviations
        .iter()
        .map(|d| {
            vec![
                ("DVSPID", d.deviation_id.clone()),
                ("DVTERM", d.description.clone()),
                ("DVDECOD", d.rule.id().to_string()),
                ("DVCAT", code(&d.severity)),
                (
                    "DVSTAT",
                    p.oversight
                        .deviation_status(&d.deviation_id)
                        .label()
                        .to_string(),
                ),
                ("DVSTDTC", dtc(d.occurred_at)),
            ]
        })
        .collect()
}

/// The current quantification of each PET time point.
fn pet_quantifications(
    p: &Participant,
) -> impl Iterator<Item = (PetTimepoint, &protocol::imaging::PetQuantification)> {
    [PetTimepoint::Pet1, PetTimepoint::Pet2, PetTimepoint::Pet3]
        .into_iter()
        .filter_map(|tp| p.pet_quantification(tp).map(|q| (tp, q)))
}

/// A PET candidate's link id, e.g. `PET1-C2`.
fn pet_lesion(tp: PetTimepoint, n: u32) -> String {
    format!("{}-C{n}", code(&tp).replace(' ', ""))
}

fn pet_visit(tp: PetTimepoint) -> &'static str {
    match tp {
        PetTimepoint::Pet1 => "baseline",
        PetTimepoint::Pet2 => "pet2",
        PetTimepoint::Pet3 => "pet3",
    }
}

/// An enum's serialized name in capitals with spaces (`possibly_related` → `POSSIBLY RELATED`).
fn code(x: &impl Serialize) -> String {
    match serde_json::to_value(x) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " ").to_uppercase(),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A number as written: shortest form; empty when not finite (never `NaN` in a dataset).
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

fn yn(b: bool) -> String {
    if b { "Y" } else { "N" }.into()
}

fn dtc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
