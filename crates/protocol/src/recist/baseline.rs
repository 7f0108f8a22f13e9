//! Baseline: which lesions are measurable, and whether the chosen target lesions respect
//! the RECIST 1.1 selection limits.

use super::error::RuleError;
use super::measure::Tenths;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Smallest measurable longest diameter on CT/MRI (RECIST 1.1 §3.1.1).
pub const MIN_MEASURABLE: Tenths = Tenths::from_tenths(100);
/// Smallest measurable lymph-node short axis (RECIST 1.1 §3.1.1).
pub const MIN_MEASURABLE_NODE: Tenths = Tenths::from_tenths(150);
/// Slices up to this thickness keep the fixed 10 mm minimum (RECIST 1.1 §3.1.1).
pub const FIXED_MINIMUM_MAX_SLICE: Tenths = Tenths::from_tenths(50);
/// Below this short axis a lymph node is normal (RECIST 1.1 §3.1.2, §4.3.1).
pub const NORMAL_NODE_BELOW: Tenths = Tenths::from_tenths(100);
/// At most this many target lesions in total (RECIST 1.1 §4.2).
pub const MAX_TARGETS: usize = 5;
/// At most this many target lesions per organ (RECIST 1.1 §4.2).
pub const MAX_TARGETS_PER_ORGAN: usize = 2;

/// A reader's lesion identifier, e.g. `T1`, unique within a case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LesionId(String);

impl LesionId {
    /// An identifier; `None` when it is empty or only white space.
    pub fn parse(id: &str) -> Option<Self> {
        let id = id.trim();
        (!id.is_empty()).then(|| LesionId(id.to_owned()))
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LesionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a baseline lesion is followed by measurement or by observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Measured at every assessment; part of the sum of diameters (RECIST 1.1 §4.2).
    Target,
    /// Followed as present, absent or unequivocally progressing (RECIST 1.1 §4.2).
    NonTarget,
}

/// Bone lesion kinds (RECIST 1.1 §3.1.3, "Bone lesions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoneLesion {
    /// Lytic or mixed lytic–blastic with an identifiable soft-tissue component measured on
    /// CT or MRI: measurable if that component is; the diameter is the component's.
    SoftTissueComponent,
    /// Lytic without a soft-tissue component: not measurable.
    WithoutSoftTissue,
    /// Blastic: not measurable.
    Blastic,
}

/// Cystic lesion kinds (RECIST 1.1 §3.1.3, "Cystic lesions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CysticLesion {
    /// A radiologically simple cyst: not a malignant lesion at all, neither target nor
    /// non-target.
    SimpleCyst,
    /// Thought to be a cystic metastasis: measurable if large enough, but non-cystic
    /// lesions are preferred as targets.
    CysticMetastasis,
}

/// One lesion recorded at baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineLesion {
    /// The reader's identifier.
    pub id: LesionId,
    /// Organ, free text; compared case-insensitively. Lymph nodes are one organ whatever
    /// is written here (RECIST 1.1 §4.2; EORTC RECIST clarifications).
    pub organ: String,
    /// A lymph node: its size is the short axis (RECIST 1.1 §3.1.1).
    pub node: bool,
    /// Target or non-target.
    pub role: Role,
    /// Longest diameter, or short axis for a node; required for targets.
    pub diameter: Option<Tenths>,
    /// Set for a bone lesion.
    pub bone: Option<BoneLesion>,
    /// Set for a cystic lesion.
    pub cystic: Option<CysticLesion>,
    /// In a previously irradiated field (or treated loco-regionally).
    pub irradiated: bool,
    /// An irradiated lesion that has progressed since: measurable again
    /// (RECIST 1.1 §3.1.3, "Lesions with prior local treatment").
    pub progressed_after_irradiation: bool,
}

impl BaselineLesion {
    /// A plain soft-tissue lesion (no bone, cyst or irradiation qualifiers).
    pub fn new(
        id: LesionId,
        organ: &str,
        node: bool,
        role: Role,
        diameter: Option<Tenths>,
    ) -> Self {
        BaselineLesion {
            id,
            organ: organ.to_owned(),
            node,
            role,
            diameter,
            bone: None,
            cystic: None,
            irradiated: false,
            progressed_after_irradiation: false,
        }
    }

    /// The organ key the per-organ limit counts by: all lymph nodes together are one organ.
    pub fn organ_key(&self) -> String {
        if self.node {
            "lymph node".to_owned()
        } else {
            self.organ.trim().to_lowercase()
        }
    }
}

/// Why a lesion may not be a target, or may not be recorded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measurability {
    /// May be a target lesion.
    Measurable,
    /// May be a non-target lesion only; the reason names the rule.
    NonMeasurable(String),
    /// Must not be recorded as a lesion at all (a normal node, a simple cyst).
    NotALesion(String),
}

/// The size minima of measurability and the protocol's choice on irradiated lesions
/// (RECIST 1.1 §3.1). The defaults are RECIST's; the trial takes them from its settings
/// (`lesions.measurable_min_longest_mm`, `lesions.node_min_short_axis_mm`,
/// `lesions.max_slice_for_fixed_minimum_mm`, `recist.irradiated_measurable_if_progressed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurabilityRules {
    /// Smallest measurable longest diameter on thin-slice CT (RECIST 1.1 §3.1.1: 10 mm).
    pub min_longest: Tenths,
    /// Smallest measurable lymph-node short axis (RECIST 1.1 §3.1.1: 15 mm).
    pub min_node_short_axis: Tenths,
    /// Slices up to this thickness keep the fixed minimum; thicker slices need twice the
    /// slice thickness (RECIST 1.1 §3.1.1: 5 mm).
    pub fixed_minimum_max_slice: Tenths,
    /// Whether a lesion in a previously irradiated field that has progressed since is
    /// measurable. RECIST 1.1 §3.1.3 says such lesions are "usually not considered
    /// measurable unless there has been demonstrated progression" and leaves the conditions
    /// to the protocol; default true.
    pub irradiated_measurable_if_progressed: bool,
}

impl Default for MeasurabilityRules {
    fn default() -> Self {
        MeasurabilityRules {
            min_longest: MIN_MEASURABLE,
            min_node_short_axis: MIN_MEASURABLE_NODE,
            fixed_minimum_max_slice: FIXED_MINIMUM_MAX_SLICE,
            irradiated_measurable_if_progressed: true,
        }
    }
}

impl MeasurabilityRules {
    /// The smallest measurable size on CT with the given slice thickness: the fixed
    /// minimum, or twice the slice thickness when slices are thicker than the limit; a node
    /// needs its short-axis minimum (RECIST 1.1 §3.1.1).
    pub fn minimum(&self, node: bool, slice_thickness: Tenths) -> Tenths {
        if node {
            self.min_node_short_axis
        } else if slice_thickness > self.fixed_minimum_max_slice {
            self.min_longest.max(slice_thickness.plus(slice_thickness))
        } else {
            self.min_longest
        }
    }

    /// Measurability of a baseline lesion (RECIST 1.1 §3.1.1–§3.1.3).
    ///
    /// - A radiologically simple cyst is not a malignant lesion at all, neither target nor
    ///   non-target; a cyst thought to be a cystic metastasis is measurable when large
    ///   enough (non-cystic targets are preferred, a warning of [`super::case`]).
    /// - A bone lesion is measurable only through an identifiable soft-tissue component
    ///   that itself meets the size minimum; blastic lesions and bone lesions without one
    ///   are not.
    /// - A lesion in a previously irradiated field is not measurable unless it progressed
    ///   since and the protocol accepts that ([`Self::irradiated_measurable_if_progressed`]).
    pub fn measurability(&self, lesion: &BaselineLesion, slice_thickness: Tenths) -> Measurability {
        if lesion.cystic == Some(CysticLesion::SimpleCyst) {
            return Measurability::NotALesion(
                "a simple cyst is not a malignant lesion: leave it out (RECIST 1.1 §3.1.3)".into(),
            );
        }
        if let Some(d) = lesion.diameter
            && lesion.node
            && d < NORMAL_NODE_BELOW
        {
            return Measurability::NotALesion(format!(
                "a node with short axis {d} (< 10 mm) is normal, not a lesion (RECIST 1.1 §3.1.2)"
            ));
        }
        match lesion.bone {
            Some(BoneLesion::Blastic) => {
                return Measurability::NonMeasurable(
                    "a blastic bone lesion is not measurable (RECIST 1.1 §3.1.3)".into(),
                );
            }
            Some(BoneLesion::WithoutSoftTissue) => {
                return Measurability::NonMeasurable(
                    "a bone lesion without an identifiable soft-tissue component is not \
                     measurable (RECIST 1.1 §3.1.3)"
                        .into(),
                );
            }
            Some(BoneLesion::SoftTissueComponent) | None => {}
        }
        if lesion.irradiated && !lesion.progressed_after_irradiation {
            return Measurability::NonMeasurable(
                "a lesion in a previously irradiated field is not measurable unless it has \
                 progressed since (RECIST 1.1 §3.1.3)"
                    .into(),
            );
        }
        if lesion.irradiated && !self.irradiated_measurable_if_progressed {
            return Measurability::NonMeasurable(
                "a lesion in a previously irradiated field is not measurable in this protocol, \
                 even after progression (RECIST 1.1 §3.1.3 leaves it to the protocol)"
                    .into(),
            );
        }
        let Some(d) = lesion.diameter else {
            return Measurability::NonMeasurable("no diameter recorded".into());
        };
        let min = self.minimum(lesion.node, slice_thickness);
        if d < min {
            let what = if lesion.node {
                format!(
                    "a node needs a short axis of at least {}",
                    self.min_node_short_axis
                )
            } else if lesion.bone == Some(BoneLesion::SoftTissueComponent) {
                "the soft-tissue component of a bone lesion is measured and needs the \
                 minimum longest diameter"
                    .to_owned()
            } else {
                format!(
                    "a lesion needs a longest diameter of at least {}, or twice the slice \
                     thickness when slices are thicker than {}",
                    self.min_longest, self.fixed_minimum_max_slice
                )
            };
            return Measurability::NonMeasurable(format!(
                "{d} is below the {min} minimum: {what} (RECIST 1.1 §3.1.1)"
            ));
        }
        Measurability::Measurable
    }
}

/// The smallest measurable size under RECIST's own minima
/// ([`MeasurabilityRules::minimum`] with the defaults).
pub fn minimum_measurable(node: bool, slice_thickness: Tenths) -> Tenths {
    MeasurabilityRules::default().minimum(node, slice_thickness)
}

/// Measurability under RECIST's own minima ([`MeasurabilityRules::measurability`] with the
/// defaults).
pub fn measurability(lesion: &BaselineLesion, slice_thickness: Tenths) -> Measurability {
    MeasurabilityRules::default().measurability(lesion, slice_thickness)
}

/// A validated baseline: lesions with unique ids, targets measurable and within the
/// selection limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    date: NaiveDate,
    slice_thickness: Tenths,
    lesions: Vec<BaselineLesion>,
    rules: MeasurabilityRules,
}

impl Baseline {
    /// Validates a baseline under RECIST's own size minima; every broken rule is reported,
    /// with paths in the input format (`baseline.lesions[i]…`).
    pub fn new(
        date: NaiveDate,
        slice_thickness: Tenths,
        lesions: Vec<BaselineLesion>,
    ) -> Result<Self, Vec<RuleError>> {
        Self::with_rules(
            date,
            slice_thickness,
            lesions,
            MeasurabilityRules::default(),
        )
    }

    /// Validates a baseline under the given measurability rules (the trial's settings).
    pub fn with_rules(
        date: NaiveDate,
        slice_thickness: Tenths,
        lesions: Vec<BaselineLesion>,
        rules: MeasurabilityRules,
    ) -> Result<Self, Vec<RuleError>> {
        let mut errors = Vec::new();
        if slice_thickness == Tenths::ZERO {
            errors.push(RuleError::new(
                "baseline.slice_thickness_mm",
                "slice thickness must be above 0 mm",
            ));
        }
        if lesions.is_empty() {
            errors.push(RuleError::new(
                "baseline.lesions",
                "no lesions: RECIST assesses response of disease present at baseline \
                 (RECIST 1.1 §4.1)",
            ));
        }
        let mut seen: BTreeMap<&LesionId, usize> = BTreeMap::new();
        let mut per_organ: BTreeMap<String, Vec<&LesionId>> = BTreeMap::new();
        let mut targets = 0;
        for (i, lesion) in lesions.iter().enumerate() {
            let path = format!("baseline.lesions[{i}]");
            if let Some(first) = seen.insert(&lesion.id, i) {
                errors.push(RuleError::new(
                    format!("{path}.id"),
                    format!(
                        "lesion id {} is used twice (also lesions[{first}])",
                        lesion.id
                    ),
                ));
            }
            if lesion.bone.is_some() && lesion.node {
                errors.push(RuleError::new(
                    format!("{path}.bone"),
                    "a lesion cannot be both a lymph node and a bone lesion",
                ));
            }
            let m = rules.measurability(lesion, slice_thickness);
            if let Measurability::NotALesion(why) = &m {
                errors.push(RuleError::new(format!("{path}.diameter_mm"), why.clone()));
                continue;
            }
            if lesion.role == Role::Target {
                targets += 1;
                per_organ
                    .entry(lesion.organ_key())
                    .or_default()
                    .push(&lesion.id);
                if lesion.diameter.is_none() {
                    errors.push(RuleError::new(
                        format!("{path}.diameter_mm"),
                        "a target lesion needs a baseline diameter (RECIST 1.1 §4.2)",
                    ));
                } else if let Measurability::NonMeasurable(why) = m {
                    errors.push(RuleError::new(
                        format!("{path}.diameter_mm"),
                        format!("not measurable, so it cannot be a target: {why}"),
                    ));
                }
            }
        }
        if targets > MAX_TARGETS {
            errors.push(RuleError::new(
                "baseline.lesions",
                format!(
                    "{targets} target lesions: at most {MAX_TARGETS} in total (RECIST 1.1 §4.2)"
                ),
            ));
        }
        for (organ, ids) in &per_organ {
            if ids.len() > MAX_TARGETS_PER_ORGAN {
                let list: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
                errors.push(RuleError::new(
                    "baseline.lesions",
                    format!(
                        "{} target lesions in {organ} ({}): at most {MAX_TARGETS_PER_ORGAN} per \
                         organ, lymph nodes counting as one organ (RECIST 1.1 §4.2)",
                        ids.len(),
                        list.join(", ")
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Baseline {
                date,
                slice_thickness,
                lesions,
                rules,
            })
        } else {
            Err(errors)
        }
    }

    /// Date of the baseline scan.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// CT slice thickness of the baseline scan.
    pub fn slice_thickness(&self) -> Tenths {
        self.slice_thickness
    }

    /// The measurability rules the baseline was validated with.
    pub fn rules(&self) -> &MeasurabilityRules {
        &self.rules
    }

    /// All lesions, in input order.
    pub fn lesions(&self) -> &[BaselineLesion] {
        &self.lesions
    }

    /// The lesion with this id.
    pub fn lesion(&self, id: &LesionId) -> Option<&BaselineLesion> {
        self.lesions.iter().find(|l| &l.id == id)
    }

    /// Target lesions, in input order.
    pub fn targets(&self) -> impl Iterator<Item = &BaselineLesion> {
        self.lesions.iter().filter(|l| l.role == Role::Target)
    }

    /// Non-target lesions, in input order.
    pub fn non_targets(&self) -> impl Iterator<Item = &BaselineLesion> {
        self.lesions.iter().filter(|l| l.role == Role::NonTarget)
    }

    /// Whether there is measurable disease, i.e. at least one target lesion.
    pub fn has_targets(&self) -> bool {
        self.targets().next().is_some()
    }

    /// Baseline sum of diameters: longest diameters, short axis for nodes (RECIST 1.1 §4.2).
    pub fn sum(&self) -> Tenths {
        self.targets().filter_map(|l| l.diameter).sum()
    }
}
