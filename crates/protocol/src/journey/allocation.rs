//! Allocation from the eligible specimen (PROTOCOL §8; clinical-rules §2.4, A2–A5).
//!
//! 1. Each specimen's read: a central read replaces the local one (configurable),
//!    the latest report of that kind counts.
//! 2. Specimens from an archival biopsy that is too old or had disallowed therapy
//!    since are left out (`ARCHIVAL_BIOPSY`); if nothing is left, allocation is refused.
//! 3. Non-diagnostic specimens are left out; if nothing diagnostic is left, the
//!    configured non-diagnostic action applies (re-biopsy, archival sample, screen failure).
//! 4. Several specimens: the configured rule picks the deciding one (highest category,
//!    or the PET-guided target lesion only); disagreement is flagged as discordant.
//! 5. HER2-positive → off study; HER2-expressing (by the configured definition) → arm 1;
//!    otherwise → arm 2.
//! 6. The HER2-PET uptake of the deciding lesion is recorded beside the allocation
//!    ([`Allocation::with_pet`]). With `allocation_uses_pet` (the registration's
//!    "allocated based on HER2-status on PET and biopsy") it also counts: a HER2-zero
//!    biopsy of a lesion that is HER2-avid on PET1 is HER2-expressing on PET → arm 1;
//!    a HER2-positive biopsy stays off study, a HER2-expressing one stays arm 1, and
//!    without a PET1 value for the deciding lesion the biopsy alone decides (noted).
//!
//! Every later report of the baseline biopsy re-derives the allocation over all its
//! specimens. When the result differs from the allocation in force it is kept as a
//! [`PendingReallocation`] until the investigator signs the change (a correction).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::biopsy::{BiopsySource, check_archival_sample};
use super::pathology::{Her2Category, ReadKind, SpecimenFinding, SpecimenReport, derive_category};
use crate::participant::Arm;
use crate::rule::{Refusal, Rule};
use crate::settings::{
    Her2ExpressingDefinition, Her2PositiveAction, MultiSpecimenRule, NondiagnosticAction, Settings,
};

/// The result of allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AllocationOutcome {
    /// Allocated to an arm.
    Allocated {
        /// Arm 1 (HER2-expressing, T-DXd) or arm 2 (HER2-zero, follow-up).
        arm: Arm,
    },
    /// HER2-positive: not this trial's population; off study with the reason.
    OffStudy {
        /// The reason to record.
        reason: String,
    },
    /// No diagnostic specimen: what the settings say to do next.
    NonDiagnostic {
        /// Re-biopsy, archival sample or screen failure.
        action: NondiagnosticAction,
    },
}

impl AllocationOutcome {
    /// Where the outcome puts her; none for a non-diagnostic result.
    pub fn target(&self) -> Option<AllocationTarget> {
        match self {
            AllocationOutcome::Allocated { arm } => Some((*arm).into()),
            AllocationOutcome::OffStudy { .. } => Some(AllocationTarget::OffStudy),
            AllocationOutcome::NonDiagnostic { .. } => None,
        }
    }
}

/// Where an allocation puts her: an arm, or off study (HER2-positive). What a signed
/// correction names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllocationTarget {
    /// Arm 1: HER2-expressing, T-DXd.
    Arm1,
    /// Arm 2: HER2-zero, safety follow-up.
    Arm2,
    /// Off study: HER2-positive, not the trial population (PROTOCOL §8).
    OffStudy,
}

impl AllocationTarget {
    /// The arm, if it is one.
    pub fn arm(self) -> Option<Arm> {
        match self {
            AllocationTarget::Arm1 => Some(Arm::Arm1),
            AllocationTarget::Arm2 => Some(Arm::Arm2),
            AllocationTarget::OffStudy => None,
        }
    }

    /// The label a nurse reads.
    pub fn label(self) -> &'static str {
        match self {
            AllocationTarget::Arm1 => "arm 1 (HER2-expressing, T-DXd)",
            AllocationTarget::Arm2 => "arm 2 (HER2-zero, follow-up)",
            AllocationTarget::OffStudy => "off study (HER2-positive)",
        }
    }
}

impl From<Arm> for AllocationTarget {
    fn from(a: Arm) -> Self {
        match a {
            Arm::Arm1 => AllocationTarget::Arm1,
            Arm::Arm2 => AllocationTarget::Arm2,
        }
    }
}

/// A re-derived allocation that differs from the one in force: it changes nothing
/// until the investigator signs it (PROTOCOL §8: the allocation changes only by a
/// signed correction with a reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PendingReallocation {
    /// The new automatic decision with its evidence (every specimen so far).
    pub decision: Allocation,
    /// Where it would put her (none: no diagnostic specimen left).
    pub proposed: Option<AllocationTarget>,
    /// Where she is now.
    pub in_force: Option<AllocationTarget>,
    /// T-DXd has been given: confirming a move off arm 1 records a major deviation.
    pub treatment_started: bool,
    /// When the report that re-derived it was recorded.
    pub proposed_at: DateTime<Utc>,
}

/// How one specimen was used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpecimenEvidence {
    /// Specimen id.
    pub specimen_id: String,
    /// Biopsy id.
    pub biopsy_id: String,
    /// Biopsied lesion, when known.
    pub lesion_id: Option<String>,
    /// The read that counted.
    pub read: ReadKind,
    /// Its reader.
    pub reader: String,
    /// Derived category (None: non-diagnostic or not counted).
    pub category: Option<Her2Category>,
    /// Whether it took part in the decision.
    pub counted: bool,
    /// Why, with the values.
    pub note: String,
}

/// An allocation with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Allocation {
    /// The outcome.
    pub outcome: AllocationOutcome,
    /// The specimen that decided (None when non-diagnostic).
    pub deciding_specimen_id: Option<String>,
    /// Its category.
    pub deciding_category: Option<Her2Category>,
    /// Counted diagnostic specimens disagree on the category.
    pub discordant: bool,
    /// Every specimen considered.
    pub specimens: Vec<SpecimenEvidence>,
    /// Definition of HER2-expressing used.
    pub her2_expressing_definition: Her2ExpressingDefinition,
    /// Rule for several specimens used.
    pub multi_specimen_rule: MultiSpecimenRule,
    /// Lines a nurse can read.
    pub evidence: Vec<String>,
    /// The HER2-PET finding of the deciding lesion, recorded beside the
    /// allocation without changing it (PROTOCOL §8); see [`Allocation::with_pet`].
    pub pet_beside: Option<PetBeside>,
    /// Settings version used.
    pub settings_version: u32,
}

/// The HER2-PET uptake of the deciding specimen's lesion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PetBeside {
    /// The lesion.
    pub lesion_id: String,
    /// Its SUVmax on PET1.
    pub suvmax: f64,
    /// HER2-avid: SUVmax ≥ the threshold.
    pub avid: bool,
    /// The threshold used (`avid_suvmax_threshold`).
    pub threshold: f64,
    /// The PET changed the arm (`allocation_uses_pet`: HER2-zero biopsy, avid lesion).
    #[serde(default)]
    pub changed_allocation: bool,
}

impl Allocation {
    /// Records the PET1 SUVmax of the deciding specimen's lesion beside the
    /// allocation, from `(lesion id, SUVmax)` pairs. Nothing changes when the
    /// deciding lesion is unknown or has no PET value. With `allocation_uses_pet`
    /// a HER2-zero result (arm 2) of a HER2-avid lesion moves to arm 1 (see the
    /// module documentation); without a PET value the biopsy alone decides.
    pub fn with_pet(mut self, lesion_suvmax: &[(String, f64)], s: &Settings) -> Allocation {
        let lesion = self
            .deciding_specimen_id
            .as_ref()
            .and_then(|id| self.specimens.iter().find(|sp| &sp.specimen_id == id))
            .and_then(|sp| sp.lesion_id.clone());
        let found = lesion
            .as_ref()
            .and_then(|l| lesion_suvmax.iter().find(|(id, _)| id == l));
        let Some((lesion_id, suvmax)) = found else {
            if s.allocation_uses_pet && self.deciding_specimen_id.is_some() {
                self.evidence.push(format!(
                    "allocation_uses_pet: no PET1 SUVmax for the deciding lesion ({}): allocated on the biopsy alone",
                    lesion.as_deref().unwrap_or("unknown")
                ));
            }
            return self;
        };
        let threshold = s.avid_suvmax_threshold;
        let avid = *suvmax >= threshold;
        // A HER2-positive biopsy in arm 2 (clinical-rules A3) never moves to arm 1.
        let moves = s.allocation_uses_pet
            && avid
            && self.deciding_category != Some(Her2Category::Positive)
            && self.outcome == (AllocationOutcome::Allocated { arm: Arm::Arm2 });
        let finding = format!(
            "lesion {lesion_id} SUVmax {suvmax} {} {threshold} → {}",
            if avid { "≥" } else { "<" },
            if avid { "HER2-avid" } else { "not avid" }
        );
        self.evidence.push(if moves {
            self.outcome = AllocationOutcome::Allocated { arm: Arm::Arm1 };
            format!(
                "PET1 and biopsy (allocation_uses_pet): {finding}: HER2-expressing on PET → arm 1 (HER2-expressing, T-DXd)"
            )
        } else if s.allocation_uses_pet {
            format!("PET1 and biopsy (allocation_uses_pet): {finding}: the biopsy's arm stands")
        } else {
            format!("PET1 beside the allocation (does not change it): {finding}")
        });
        self.pet_beside = Some(PetBeside {
            lesion_id: lesion_id.clone(),
            suvmax: *suvmax,
            avid,
            threshold,
            changed_allocation: moves,
        });
        self
    }
}

/// Whether a category is HER2-expressing (arm 1) under a definition.
pub fn is_her2_expressing(c: Her2Category, d: Her2ExpressingDefinition) -> bool {
    match c {
        Her2Category::Low => true,
        Her2Category::Ultralow => d == Her2ExpressingDefinition::IhcGt0,
        Her2Category::Null | Her2Category::Positive => false,
    }
}

fn refuse(msg: String) -> Refusal {
    Refusal::new(Rule::ALLOCATION, msg)
}

/// The read of each specimen that counts: central over local when configured,
/// then the latest report (the later one in the list on the same day).
fn counting_reads<'a>(reports: &'a [SpecimenReport], s: &Settings) -> Vec<&'a SpecimenReport> {
    let mut by_specimen: BTreeMap<&str, Vec<&SpecimenReport>> = BTreeMap::new();
    for r in reports {
        by_specimen.entry(&r.specimen_id).or_default().push(r);
    }
    by_specimen
        .into_values()
        .filter_map(|reads| {
            let central = s.allocation.central_read_supersedes_local
                && reads.iter().any(|r| r.read == ReadKind::Central);
            reads
                .into_iter()
                .filter(|r| !central || r.read == ReadKind::Central)
                .max_by_key(|r| r.reported_on)
        })
        .collect()
}

/// A counted diagnostic specimen.
struct Diagnostic {
    /// Index into the specimen evidence.
    idx: usize,
    category: Her2Category,
    /// From a fresh PET-guided biopsy.
    targeted: bool,
}

/// Steps 1–3: every specimen's counting read, its eligibility and category.
struct Considered {
    specimens: Vec<SpecimenEvidence>,
    diagnostic: Vec<Diagnostic>,
    evidence: Vec<String>,
}

fn consider(
    biopsies: &[BiopsySource],
    reports: &[SpecimenReport],
    s: &Settings,
) -> Result<Considered, Refusal> {
    let mut c = Considered {
        specimens: Vec::new(),
        diagnostic: Vec::new(),
        evidence: Vec::new(),
    };
    let mut archival_refusal = None;
    let mut eligible = 0;
    for r in counting_reads(reports, s) {
        let biopsy = biopsies
            .iter()
            .find(|b| b.biopsy_id() == r.biopsy_id)
            .ok_or_else(|| {
                refuse(format!(
                    "Specimen {} names biopsy {}, which is not recorded.",
                    r.specimen_id, r.biopsy_id
                ))
            })?;
        let mut ev = SpecimenEvidence {
            specimen_id: r.specimen_id.clone(),
            biopsy_id: r.biopsy_id.clone(),
            lesion_id: biopsy.lesion_id().map(str::to_owned),
            read: r.read,
            reader: r.reader.clone(),
            category: None,
            counted: false,
            note: String::new(),
        };
        if let BiopsySource::Archival(a) = biopsy {
            match check_archival_sample(a, s) {
                Ok(line) => c.evidence.push(line),
                Err(refusal) => {
                    ev.note = format!("not eligible: {}", refusal.message);
                    archival_refusal.get_or_insert(refusal);
                    c.specimens.push(ev);
                    continue;
                }
            }
        }
        eligible += 1;
        match &r.finding {
            SpecimenFinding::NonDiagnostic { reason } => {
                ev.note = format!("non-diagnostic: {reason}");
            }
            SpecimenFinding::Her2(read) => {
                let d = derive_category(read).map_err(|mut e| {
                    e.message = format!("Specimen {}: {}", r.specimen_id, e.message);
                    e
                })?;
                ev.category = Some(d.category);
                ev.note = format!(
                    "{:?} read by {} on {}: {}",
                    r.read, r.reader, r.reported_on, d.reason
                );
                c.diagnostic.push(Diagnostic {
                    idx: c.specimens.len(),
                    category: d.category,
                    targeted: matches!(biopsy, BiopsySource::Fresh(_)),
                });
            }
        }
        c.specimens.push(ev);
    }
    if eligible == 0 {
        return Err(archival_refusal.unwrap_or_else(|| refuse("No eligible specimen.".into())));
    }
    Ok(c)
}

/// Step 4: the specimens that decide under the configured rule.
fn candidates(diagnostic: &[Diagnostic], rule: MultiSpecimenRule) -> Vec<&Diagnostic> {
    let targeted_only =
        rule == MultiSpecimenRule::TargetedLesionOnly && diagnostic.iter().any(|d| d.targeted);
    diagnostic
        .iter()
        .filter(|d| !targeted_only || d.targeted)
        .collect()
}

/// Step 5: the outcome of the deciding category. HER2-positive follows
/// `her2_positive_on_trial_biopsy_action` (clinical-rules A3): off study and referred
/// (default), or arm 2's follow-up after the IMP.
fn outcome_of(category: Her2Category, specimen_id: &str, s: &Settings) -> AllocationOutcome {
    if category == Her2Category::Positive {
        match s.her2_positive_on_trial_biopsy_action {
            Her2PositiveAction::OffStudyRefer => AllocationOutcome::OffStudy {
                reason: format!(
                    "HER2-positive on specimen {specimen_id} (IHC 3+ or ISH amplified): not the trial population (PROTOCOL §8); refer for HER2-positive treatment"
                ),
            },
            Her2PositiveAction::Arm2FollowUp => AllocationOutcome::Allocated { arm: Arm::Arm2 },
        }
    } else if is_her2_expressing(category, s.her2_expressing_definition) {
        AllocationOutcome::Allocated { arm: Arm::Arm1 }
    } else {
        AllocationOutcome::Allocated { arm: Arm::Arm2 }
    }
}

fn outcome_text(o: &AllocationOutcome) -> &'static str {
    match o {
        AllocationOutcome::Allocated { arm: Arm::Arm1 } => "arm 1 (HER2-expressing, T-DXd)",
        AllocationOutcome::Allocated { arm: Arm::Arm2 } => "arm 2 (HER2-zero, follow-up)",
        AllocationOutcome::OffStudy { .. } => "off study (HER2-positive)",
        AllocationOutcome::NonDiagnostic { .. } => "non-diagnostic",
    }
}

/// Allocates from the biopsies and pathology reports (PROTOCOL §8).
///
/// The PET is applied afterwards by [`Allocation::with_pet`] (also under
/// `allocation_uses_pet`). Refuses with `ALLOCATION` when there is nothing to
/// allocate on or when a report names an unknown biopsy; with `ARCHIVAL_BIOPSY` when
/// every specimen comes from an unusable archival biopsy; with `HER2_CATEGORY` when
/// a counted read is incomplete (IHC 2+ without ISH) or contradicts itself.
pub fn allocate(
    biopsies: &[BiopsySource],
    reports: &[SpecimenReport],
    s: &Settings,
) -> Result<Allocation, Refusal> {
    if reports.is_empty() {
        return Err(refuse(
            "No pathology report: nothing to allocate on.".into(),
        ));
    }
    let Considered {
        mut specimens,
        diagnostic,
        evidence: checked,
    } = consider(biopsies, reports, s)?;
    let rule = s.allocation.multi_specimen_rule;
    let mut evidence = vec![format!(
        "Settings v{} ({}): HER2-expressing = {}; several specimens: {rule:?}; central read supersedes local: {}; non-diagnostic: {:?}; PET {}",
        s.version,
        s.protocol_version,
        match s.her2_expressing_definition {
            Her2ExpressingDefinition::IhcGt0 => "IHC > 0 (ultralow, 1+, 2+/ISH−)",
            Her2ExpressingDefinition::Her2LowOnly => "HER2-low only (1+, 2+/ISH−)",
        },
        s.allocation.central_read_supersedes_local,
        s.allocation.nondiagnostic_action,
        if s.allocation_uses_pet {
            "with the biopsy (allocation_uses_pet)"
        } else {
            "beside the allocation"
        }
    )];
    evidence.extend(checked);
    let discordant = diagnostic
        .windows(2)
        .any(|w| w[0].category != w[1].category);
    let candidates = candidates(&diagnostic, rule);
    // Highest category wins; on a tie the first specimen (by id) decides.
    let deciding = candidates.iter().rev().max_by_key(|d| d.category);
    let (outcome, deciding) = match deciding {
        None => {
            let action = s.allocation.nondiagnostic_action;
            evidence.push(format!(
                "No diagnostic specimen → {action:?} (settings v{})",
                s.version
            ));
            for sp in specimens.iter_mut() {
                sp.counted = sp.note.starts_with("non-diagnostic");
            }
            (AllocationOutcome::NonDiagnostic { action }, None)
        }
        Some(d) => {
            for c in &candidates {
                specimens[c.idx].counted = true;
            }
            let id = specimens[d.idx].specimen_id.clone();
            if discordant {
                let all: Vec<String> = diagnostic
                    .iter()
                    .map(|x| format!("{} {}", specimens[x.idx].specimen_id, x.category.label()))
                    .collect();
                evidence.push(format!(
                    "Discordant specimens ({}); {rule:?} decides: specimen {id} {}",
                    all.join(", "),
                    d.category.label()
                ));
            }
            let outcome = outcome_of(d.category, &id, s);
            evidence.push(format!(
                "Specimen {id} ({}) {} → {}",
                specimens[d.idx].note,
                d.category.label(),
                outcome_text(&outcome)
            ));
            if d.category == Her2Category::Positive {
                evidence.push(format!(
                    "HER2-positive on the trial biopsy: her2_positive_on_trial_biopsy_action {} (clinical-rules A3, {})",
                    match s.her2_positive_on_trial_biopsy_action {
                        Her2PositiveAction::OffStudyRefer => "OFF_STUDY_REFER → off study, referred",
                        Her2PositiveAction::Arm2FollowUp => {
                            "ARM2_FOLLOW_UP → arm 2's adverse-event follow-up after the IMP, then off study"
                        }
                    },
                    s.provenance()
                ));
            }
            (outcome, Some((id, d.category)))
        }
    };
    Ok(Allocation {
        outcome,
        deciding_category: deciding.as_ref().map(|(_, c)| *c),
        deciding_specimen_id: deciding.map(|(id, _)| id),
        discordant,
        specimens,
        her2_expressing_definition: s.her2_expressing_definition,
        multi_specimen_rule: rule,
        evidence,
        pet_beside: None,
        settings_version: s.version,
    })
}
