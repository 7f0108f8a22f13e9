//! Builders for tests and demo data: an eligible participant in a few lines.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use protocol::{Overall, Settings, evaluate_eligibility, testing};
//!
//! let consent_at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let now = consent_at + chrono::Duration::days(1);
//! let cmds = testing::eligible_participant_commands("KS", "KS-014", consent_at);
//! let (p, _events) = testing::run(&cmds, now, &Settings::default()).unwrap();
//! assert_eq!(evaluate_eligibility(&p, now, &Settings::default()).overall, Overall::Eligible);
//! ```

use chrono::{DateTime, Datelike, Duration, Utc};

use crate::command::*;
use crate::decide::decide;
use crate::event::Event;
use crate::evolve::evolve;
use crate::labs::{Analyte, SampleOrigin};
use crate::participant::Participant;
use crate::records::{
    AttestedCriterion, DiseaseExtent, ESignature, IhcScore, LesionType, Sex, TreatmentSetting,
};
use crate::rule::Refusal;
use crate::settings::Settings;

/// An investigator's signature at `at`.
pub fn investigator_signature(at: DateTime<Utc>) -> ESignature {
    ESignature {
        signer: "investigator.demo".into(),
        role: "investigator".into(),
        meaning: "I confirm this statement as the responsible investigator".into(),
        signed_at: at,
    }
}

/// A lab command (study sample).
pub fn lab(
    analyte: Analyte,
    value: f64,
    unit: &str,
    uln: Option<f64>,
    at: DateTime<Utc>,
) -> Command {
    Command::RecordLab(RecordLab {
        analyte,
        value,
        unit: unit.into(),
        uln,
        lln: None,
        sample_at: at,
        origin: SampleOrigin::Study,
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    })
}

/// An attestation command signed at `at`.
pub fn attest(criterion: AttestedCriterion, answer: bool, at: DateTime<Utc>) -> Command {
    Command::RecordAttestation(RecordAttestation {
        criterion,
        answer: Some(answer),
        note: None,
        signature: investigator_signature(at),
    })
}

/// Registration of a participant born in `year_of_birth`.
pub fn register_command(site: &str, study_id: &str, year_of_birth: i32) -> Command {
    Command::RegisterParticipant(RegisterParticipant {
        site: site.into(),
        study_id: study_id.into(),
        year_of_birth,
        sex: Sex::Female,
    })
}

/// Registration (born 55 years before the consent year) followed by
/// [`eligible_screening_commands`]: a whole eligible participant from scratch.
pub fn eligible_participant_commands(
    site: &str,
    study_id: &str,
    consent_at: DateTime<Utc>,
) -> Vec<Command> {
    let mut cmds = vec![register_command(site, study_id, consent_at.year() - 55)];
    cmds.extend(eligible_screening_commands(site, study_id, consent_at));
    cmds
}

/// The commands that consent and screen an already registered woman so that
/// she is eligible when evaluated between 2 hours and 14 days after `consent_at`.
///
/// Registration is not included (the server registers and assigns the study
/// id); any year of birth that makes her at least 19 in the consent year
/// works, because the age at consent is left to the year of birth. She is postmenopausal, with progression after palliative
/// capecitabine, an earlier HER2 1+ metastatic biopsy, an accessible 25 × 18 mm
/// axillary node intended for biopsy, a 22 mm lung index lesion, and normal labs.
pub fn eligible_screening_commands(
    site: &str,
    study_id: &str,
    consent_at: DateTime<Utc>,
) -> Vec<Command> {
    // The site and study id are fixed at registration; kept in the signature so
    // callers state whom the commands are for.
    let _ = (site, study_id);
    let day = crate::local_time::SiteTimeZone::default().date_of(consent_at);
    let at = |h: i64| consent_at + Duration::hours(h);
    let lesion = |id: &str, organ: &str, t: LesionType, ld: f64, sa: Option<f64>, biopsy: bool| {
        Command::RecordLesion(RecordLesion {
            lesion_id: id.into(),
            organ: organ.into(),
            lesion_type: t,
            metastatic: true,
            longest_diameter_mm: ld,
            short_axis_mm: sa,
            previously_irradiated: false,
            progressed_after_irradiation: false,
            accessible_for_ultrasound_biopsy: biopsy,
            intended_for_biopsy: biopsy,
            imaging_date: day - Duration::days(5),
            slice_thickness_mm: Some(2.5),
            corrects: None,
            correction_reason: None,
        })
    };
    vec![
        Command::RecordConsent(RecordConsent {
            form_version: "1.0".into(),
            signed_at: consent_at,
            age_at_consent: None,
        }),
        Command::RecordMedicalHistory(RecordMedicalHistory {
            disease_extent: DiseaseExtent::Metastatic,
            earlier_metastatic_biopsies: true,
            other_malignancies_known: false,
            known_bleeding_disorder: false,
            anticoagulant_cannot_be_paused: false,
            liver_metastases: false,
            ild_history: false,
            details: None,
            reviewed_on: day,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordPriorHer2Result(RecordPriorHer2Result {
            biopsy_date: day - Duration::days(200),
            site_description: "axillary lymph node metastasis".into(),
            metastatic: true,
            ihc_score: Some(IhcScore::OnePlus),
            ish: None,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordTreatmentLine(RecordTreatmentLine {
            setting: TreatmentSetting::Palliative,
            regimen: "capecitabine".into(),
            is_chemotherapy: true,
            is_her2_targeted: false,
            start_date: day - Duration::days(300),
            end_date: Some(day - Duration::days(40)),
            progression_date: Some(day - Duration::days(40)),
            corrects: None,
            correction_reason: None,
        }),
        lesion(
            "L1",
            "axillary lymph node",
            LesionType::LymphNode,
            25.0,
            Some(18.0),
            true,
        ),
        lesion("L2", "lung", LesionType::NonNodal, 22.0, None, false),
        Command::RecordBodyWeight(RecordBodyWeight {
            weight_kg: 68.0,
            measured_on: day,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordPerformanceStatus(RecordPerformanceStatus {
            who_ps: 1,
            assessed_on: day,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordChildbearingPotential(RecordChildbearingPotential {
            childbearing_potential: false,
            basis: Some("postmenopausal for more than 1 year".into()),
            contraception_agreed: None,
            contraception_method: None,
            assessed_on: day,
            corrects: None,
            correction_reason: None,
        }),
        lab(Analyte::Lvef, 60.0, "%", None, at(1)),
        lab(Analyte::Anc, 4.1, "10^9/L", None, at(1)),
        lab(Analyte::Platelets, 245.0, "10^9/L", None, at(1)),
        lab(Analyte::Haemoglobin, 124.0, "g/L", None, at(1)),
        lab(Analyte::Creatinine, 68.0, "µmol/L", None, at(1)),
        lab(Analyte::Bilirubin, 9.0, "µmol/L", Some(26.0), at(1)),
        lab(Analyte::Ast, 0.45, "µkat/L", Some(0.60), at(1)),
        lab(Analyte::Alt, 0.40, "µkat/L", Some(0.75), at(1)),
        lab(Analyte::Inr, 1.0, "", None, at(1)),
        lab(Analyte::Aptt, 28.0, "s", None, at(1)),
        attest(AttestedCriterion::In7, true, at(2)),
        attest(AttestedCriterion::In8, true, at(2)),
        attest(AttestedCriterion::Ex1, false, at(2)),
        attest(AttestedCriterion::Ex5, false, at(2)),
    ]
}

/// The enrolment command, signed at `at`.
pub fn enrol_command(at: DateTime<Utc>) -> Command {
    Command::Enrol(Enrol {
        signature: investigator_signature(at),
    })
}

/// Decides and applies commands in order from an unregistered participant.
///
/// Returns the participant and all events, or the index of the first refused
/// command with its refusal.
pub fn run(
    commands: &[Command],
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<(Participant, Vec<Event>), (usize, Refusal)> {
    run_from(Participant::default(), commands, now, settings)
}

/// Like [`run`], starting from an existing participant.
pub fn run_from(
    mut p: Participant,
    commands: &[Command],
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<(Participant, Vec<Event>), (usize, Refusal)> {
    let mut all = Vec::new();
    for (i, cmd) in commands.iter().enumerate() {
        let events = decide(&p, cmd, now, settings).map_err(|r| (i, r))?;
        for e in &events {
            evolve(&mut p, e);
        }
        all.extend(events);
    }
    Ok((p, all))
}

/// A participant under construction: the eligible scenario, varied command by command.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use protocol::{Analyte, Overall, Participant, Rule, Settings, evaluate_eligibility, testing};
///
/// let consent_at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let now = consent_at + Duration::days(1);
/// let p = Participant::builder("KS", "KS-014", consent_at)
///     .with(testing::lab(Analyte::Inr, 1.6, "", None, consent_at + Duration::hours(3)))
///     .build(now, &Settings::default())
///     .unwrap();
/// let report = evaluate_eligibility(&p, now, &Settings::default());
/// assert_eq!(report.overall, Overall::NotEligible);
/// assert_eq!(report.failed(), vec![Rule::EX5]);
/// ```
#[derive(Debug, Clone)]
pub struct ParticipantBuilder {
    commands: Vec<Command>,
}

impl ParticipantBuilder {
    /// Adds a command after the current ones.
    pub fn with(mut self, cmd: Command) -> Self {
        self.commands.push(cmd);
        self
    }

    /// Drops the commands for which `drop` is true.
    pub fn without(mut self, drop: impl Fn(&Command) -> bool) -> Self {
        self.commands.retain(|c| !drop(c));
        self
    }

    /// The commands so far.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Decides and applies the commands at `now`; the refusal of the first refused one otherwise.
    pub fn build(
        &self,
        now: DateTime<Utc>,
        settings: &Settings,
    ) -> Result<Participant, (usize, Refusal)> {
        run(&self.commands, now, settings).map(|(p, _)| p)
    }
}

impl Participant {
    /// A builder starting from an eligible, registered and screened participant (see
    /// [`eligible_participant_commands`]).
    pub fn builder(site: &str, study_id: &str, consent_at: DateTime<Utc>) -> ParticipantBuilder {
        ParticipantBuilder {
            commands: eligible_participant_commands(site, study_id, consent_at),
        }
    }
}

/// An IMP administration for `tp` at `at`: 200 MBq, 68 kg, 168 cm, scan 60 min later.
pub fn imp_command(tp: crate::imaging::PetTimepoint, at: DateTime<Utc>) -> Command {
    Command::RecordImpAdministration(RecordImpAdministration {
        timepoint: tp,
        activity_mbq: 200.0,
        injected_at: at,
        weight_kg: 68.0,
        height_cm: 168.0,
        peptide_mass_ug: None,
        scan_start_at: Some(at + Duration::minutes(60)),
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    })
}

/// A candidate as the quantification reports it (`number` from 1; avid at SUVmax ≥ 6).
pub fn pet_candidate(
    number: u32,
    suv_max: f64,
    physiological: Option<&str>,
) -> crate::imaging::PetCandidate {
    crate::imaging::PetCandidate {
        number,
        suv_max,
        suv_peak: suv_max * 0.8,
        suv_mean: suv_max * 0.6,
        mtv_ml: 2.0,
        tlu: suv_max * 1.2,
        centroid_mm: [10.0 * f64::from(number), 0.0, -100.0],
        her2_avid: physiological.is_none() && suv_max >= 6.0,
        physiological: physiological.map(str::to_owned),
    }
}

/// A quantification of `tp`'s exam (administration `imp-1` unless given) whose header
/// agrees with [`imp_command`] given at `at`.
pub fn quantification_command(
    tp: crate::imaging::PetTimepoint,
    administration_id: &str,
    at: DateTime<Utc>,
    candidates: Vec<crate::imaging::PetCandidate>,
) -> Command {
    let volume_suv_max = candidates.iter().map(|c| c.suv_max).fold(1.0, f64::max);
    Command::RecordPetQuantification(RecordPetQuantification {
        timepoint: tp,
        administration_id: administration_id.into(),
        series_instance_uid: format!("1.2.826.0.1.3680043.9.7.{}", tp as u8 + 1),
        image_count: 300,
        algorithm_version: "pet 0.1.0".into(),
        parameters: crate::imaging::PetQuantParameters {
            suv_type: "SUVbw".into(),
            candidate_threshold_suv: 3.0,
            min_volume_ml: 0.5,
            mtv_fraction: 0.41,
            avid_suvmax_threshold: 6.0,
        },
        header: crate::imaging::PetHeaderFacts {
            injected_activity_mbq: Some(200.0),
            injected_at: Some(at),
            weight_kg: Some(68.0),
            height_cm: Some(168.0),
            scan_at: Some(at + Duration::minutes(60)),
            scan_datetime_rule: Some("series_time".into()),
            suvbw_scale_factor: Some(0.00045),
            half_life_s: Some(4062.6),
        },
        volume_suv_max,
        candidates,
        warnings: Vec::new(),
        series_patient_id: None,
        assignment_reason: Some("test series".into()),
    })
}

/// Baseline HER2-PET at `at` for an enrolled participant: the IMP, a quantification with
/// one avid candidate (SUVmax 9) and one non-avid one, the reader's review (both lesions,
/// accessible) and the investigator's choice of L1 an hour later.
pub fn baseline_pet_commands(at: DateTime<Utc>) -> Vec<Command> {
    use crate::imaging::{PetTimepoint, ReaderDecision};
    let tp = PetTimepoint::Pet1;
    let decision = |n: u32, site: &str| CandidateDecision {
        candidate: n,
        decision: ReaderDecision::Confirm,
        anatomical_site: Some(site.into()),
        ultrasound_accessible: Some(true),
        note: None,
    };
    vec![
        imp_command(tp, at),
        quantification_command(
            tp,
            "imp-1",
            at,
            vec![pet_candidate(1, 9.0, None), pet_candidate(2, 4.5, None)],
        ),
        Command::ReviewPetLesions(ReviewPetLesions {
            timepoint: tp,
            quantification_id: "petq-1".into(),
            decisions: vec![
                decision(1, "left axillary node"),
                decision(2, "right breast"),
            ],
            added: Vec::new(),
            note: None,
        }),
        Command::ChooseBiopsyTarget(ChooseBiopsyTarget {
            timepoint: tp,
            lesion: "L1".into(),
            reason: "Proposal rank 1".into(),
            signature: investigator_signature(at + Duration::hours(1)),
        }),
    ]
}

/// A fresh biopsy at `at` without anticoagulation or complications.
pub fn fresh_biopsy_command(at: DateTime<Utc>) -> Command {
    Command::RecordFreshBiopsy(RecordFreshBiopsy {
        performed_at: at,
        anticoagulant: None,
        anticoagulant_paused: false,
        anticoagulant_last_dose_at: None,
        complication: None,
        complication_meddra_code: None,
        complication_grade: None,
        late_entry_of_fact: false,
    })
}

/// A local pathology report of specimen `specimen` of `biopsy_id` with this IHC score
/// (stained share and intensity typical of the score; ISH not amplified for 2+ unless
/// `ish_amplified`).
pub fn pathology_command(
    biopsy_id: &str,
    specimen: &str,
    ihc: IhcScore,
    ish_amplified: bool,
    on: chrono::NaiveDate,
) -> Command {
    use crate::journey::pathology::ReadKind;
    let r = her2_read(ihc);
    let (pct, intensity, completeness) = (r.stained_pct, r.intensity, r.completeness);
    let two = ihc == IhcScore::TwoPlus;
    Command::RecordPathology(RecordPathology {
        biopsy_id: biopsy_id.into(),
        specimen_id: specimen.into(),
        read: ReadKind::Local,
        reader: "pathologist.demo".into(),
        reported_on: on,
        non_diagnostic_reason: None,
        ihc_score: Some(ihc),
        stained_pct: Some(pct),
        intensity: Some(intensity),
        completeness: Some(completeness),
        antibody_clone: Some("4B5".into()),
        ish_ratio: two.then_some(if ish_amplified { 3.1 } else { 1.2 }),
        ish_mean_copies: two.then_some(if ish_amplified { 7.5 } else { 2.4 }),
        ish_result: two.then_some(if ish_amplified {
            crate::records::IshResult::Amplified
        } else {
            crate::records::IshResult::NotAmplified
        }),
        late_entry_of_fact: false,
    })
}

/// An IHC read with staining typical of the score (4B5 clone, no ISH).
pub fn her2_read(ihc: IhcScore) -> crate::journey::pathology::Her2Read {
    use crate::journey::pathology::{Her2Read, StainingCompleteness, StainingIntensity};
    let (pct, intensity, completeness) = match ihc {
        IhcScore::Zero => (0.0, StainingIntensity::None, StainingCompleteness::None),
        IhcScore::Ultralow => (
            5.0,
            StainingIntensity::Faint,
            StainingCompleteness::Incomplete,
        ),
        IhcScore::OnePlus => (
            40.0,
            StainingIntensity::Faint,
            StainingCompleteness::Incomplete,
        ),
        IhcScore::TwoPlus => (
            60.0,
            StainingIntensity::WeakToModerate,
            StainingCompleteness::Complete,
        ),
        IhcScore::ThreePlus => (
            90.0,
            StainingIntensity::Intense,
            StainingCompleteness::Complete,
        ),
    };
    Her2Read {
        ihc,
        stained_pct: pct,
        intensity,
        completeness,
        antibody_clone: "VENTANA 4B5".into(),
        ish: None,
    }
}

/// A T-DXd administration at 5.4 mg/kg (or `level`) for a 68 kg woman.
pub fn tdxd_command(date: chrono::NaiveDate, level: crate::journey::tdxd::DoseLevel) -> Command {
    let mg_per_kg = match level {
        crate::journey::tdxd::DoseLevel::Start => 5.4,
        crate::journey::tdxd::DoseLevel::Reduced1 => 4.4,
        crate::journey::tdxd::DoseLevel::Reduced2 => 3.2,
    };
    Command::RecordTdxdAdministration(RecordTdxdAdministration {
        date,
        weight_kg: 68.0,
        dose_level: level,
        dose_mg: mg_per_kg * 68.0,
        reduction_reason: None,
        delay_reason: None,
        late_entry_of_fact: false,
    })
}

/// An adverse event by MedDRA code and grade, not serious, the site aware at `aware`.
pub fn adverse_event_command(
    meddra_code: u32,
    grade: u8,
    onset: chrono::NaiveDate,
    aware: DateTime<Utc>,
) -> Command {
    use crate::journey::safety::{ActionTaken, AeOutcome, Causality};
    Command::RecordAdverseEvent(RecordAdverseEvent {
        meddra_code,
        verbatim: None,
        grade,
        onset,
        resolved: None,
        serious_death: false,
        serious_life_threatening: false,
        serious_hospitalisation: false,
        serious_disability: false,
        serious_congenital_anomaly: false,
        serious_important_medical_event: false,
        relation_imp: Causality::NotRelated,
        relation_tdxd: Causality::PossiblyRelated,
        action_tdxd: ActionTaken::DoseNotChanged,
        outcome: AeOutcome::NotRecovered,
        site_aware_at: aware,
        reported_to_sponsor_at: None,
        corrects: None,
        correction_reason: None,
    })
}

/// A baseline CT of `scan_date` with two target lesions: T1 liver 30 mm, T2 lung 20 mm
/// (sum 50 mm).
pub fn ct_baseline_command(scan_date: chrono::NaiveDate) -> Command {
    use crate::recist::Role as RecistRole;
    use crate::response::TumourLesion;
    let target = |id: &str, organ: &str, mm: f64| {
        TumourLesion::new(id, organ, false, RecistRole::Target, Some(mm))
    };
    Command::RecordBaselineTumourAssessment(RecordBaselineTumourAssessment {
        scan_date,
        slice_thickness_mm: 3.0,
        treatment_start: None,
        lesions: vec![target("T1", "liver", 30.0), target("T2", "lung", 20.0)],
        corrects: None,
        correction_reason: None,
    })
}

/// A follow-up CT of `scan_date` measuring the two targets of [`ct_baseline_command`]
/// (`t1`, `t2` mm), no new lesion.
pub fn ct_follow_up_command(scan_date: chrono::NaiveDate, t1: f64, t2: f64) -> Command {
    use crate::recist::NewLesions;
    use crate::response::{TargetFinding, TargetReading};
    let measured = |id: &str, mm: f64| TargetReading {
        lesion: id.into(),
        finding: TargetFinding::Measured,
        diameter_mm: Some(mm),
    };
    Command::RecordTumourAssessment(RecordTumourAssessment {
        scan_date,
        targets: vec![measured("T1", t1), measured("T2", t2)],
        non_targets: Vec::new(),
        new_lesions: NewLesions::No,
        corrects: None,
        correction_reason: None,
    })
}
