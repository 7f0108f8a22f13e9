//! Fixture builders shared by the RECIST tests.

use chrono::NaiveDate;
use protocol::recist::{
    Assessment, AssessmentData, Baseline, BaselineLesion, Case, Evaluation, LesionId, Measurements,
    NewLesions, NonTargetStatus, OverallResponse, RecistSettings, Role, TargetMeasurement, Tenths,
    evaluate,
};
use std::collections::BTreeMap;

/// A date from `YYYY-MM-DD`.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// A lesion id.
pub fn id(s: &str) -> LesionId {
    LesionId::parse(s).expect("test id")
}

/// A measured target value in mm.
pub fn mm(x: f64) -> TargetMeasurement {
    TargetMeasurement::Measured(Tenths::from_mm(x).expect("test length"))
}

/// Treatment start of every fixture case; baseline scan a week before.
pub const START: &str = "2025-01-10";

/// Builds a RECIST case lesion by lesion and visit by visit.
pub struct CaseBuilder {
    settings: RecistSettings,
    lesions: Vec<BaselineLesion>,
    assessments: Vec<Assessment>,
}

impl CaseBuilder {
    pub fn new() -> Self {
        CaseBuilder {
            settings: RecistSettings::default(),
            lesions: Vec::new(),
            assessments: Vec::new(),
        }
    }

    pub fn confirmation(mut self, on: bool) -> Self {
        self.settings.best.confirmation = on;
        self
    }

    pub fn lesion(mut self, lesion: BaselineLesion) -> Self {
        self.lesions.push(lesion);
        self
    }

    /// A non-nodal target lesion.
    pub fn target(self, name: &str, organ: &str, diameter: f64) -> Self {
        let t = Tenths::from_mm(diameter).expect("test length");
        self.lesion(BaselineLesion::new(
            id(name),
            organ,
            false,
            Role::Target,
            Some(t),
        ))
    }

    /// A nodal target lesion (short axis).
    pub fn node_target(self, name: &str, short_axis: f64) -> Self {
        let t = Tenths::from_mm(short_axis).expect("test length");
        self.lesion(BaselineLesion::new(
            id(name),
            "lymph node",
            true,
            Role::Target,
            Some(t),
        ))
    }

    /// A non-target lesion without a diameter.
    pub fn non_target(self, name: &str, organ: &str) -> Self {
        self.lesion(BaselineLesion::new(
            id(name),
            organ,
            false,
            Role::NonTarget,
            None,
        ))
    }

    /// A visit with lesion findings.
    pub fn visit(
        mut self,
        date: &str,
        targets: &[(&str, TargetMeasurement)],
        non_targets: &[(&str, NonTargetStatus)],
        new_lesions: NewLesions,
    ) -> Self {
        let targets: BTreeMap<LesionId, TargetMeasurement> =
            targets.iter().map(|(k, v)| (id(k), v.clone())).collect();
        let non_targets: BTreeMap<LesionId, NonTargetStatus> =
            non_targets.iter().map(|(k, v)| (id(k), *v)).collect();
        self.assessments.push(Assessment {
            date: d(date),
            data: AssessmentData::Measured(Measurements {
                targets,
                non_targets,
                new_lesions,
            }),
        });
        self
    }

    /// A visit with an overall response read elsewhere.
    pub fn reported(mut self, date: &str, response: OverallResponse) -> Self {
        self.assessments.push(Assessment {
            date: d(date),
            data: AssessmentData::Reported(response),
        });
        self
    }

    pub fn build(self) -> Case {
        let baseline = Baseline::new(d("2025-01-03"), Tenths::from_tenths(50), self.lesions)
            .expect("valid test baseline");
        Case {
            treatment_start: d(START),
            settings: self.settings,
            baseline,
            assessments: self.assessments,
        }
    }

    pub fn evaluate(self) -> Evaluation {
        evaluate(&self.build()).expect("valid test case")
    }
}

/// Overall responses of every time point.
pub fn overall(e: &Evaluation) -> Vec<OverallResponse> {
    e.time_points.iter().map(|p| p.overall).collect()
}
