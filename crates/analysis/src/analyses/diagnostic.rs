//! Baseline HER2-PET against the biopsy: SUVmax by HER2 category, ROC, the protocol's
//! threshold, agreement, and the whole-body phenotype.

use protocol::journey::pathology::Her2Category;
use serde::Serialize;

use super::{LEVEL, estimate};
use crate::dataset::{Dataset, PhenotypeClass};
use crate::stats::{DiagnosticAt, Kappa, NotEstimable, Roc, at_threshold, cohen_kappa, roc};

/// Order statistics of a group of values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Median.
    pub median: Option<f64>,
    /// First quartile (linear interpolation between order statistics).
    pub q1: Option<f64>,
    /// Third quartile.
    pub q3: Option<f64>,
    /// Smallest.
    pub min: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

impl Summary {
    /// The summary of some values (non-finite ones are left out).
    pub fn of(values: &[f64]) -> Summary {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            let h = (v.len() - 1) as f64 * p;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
        };
        Summary {
            n: v.len(),
            median: q(0.5),
            q1: q(0.25),
            q3: q(0.75),
            min: v.first().copied(),
            max: v.last().copied(),
        }
    }
}

/// SUVmax of one HER2 category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategorySummary {
    /// The category.
    pub category: Her2Category,
    /// Its label.
    pub label: &'static str,
    /// Per-patient highest SUVmax.
    pub patient_suv_max: Summary,
    /// SUVmax of the biopsied lesion.
    pub biopsied_suv_max: Summary,
}

/// PET status of the biopsied lesion against its pathology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// `table[pet][biopsy]`, 0 = negative (not avid / HER2-zero), 1 = positive.
    pub table: [[u64; 2]; 2],
    /// Cohen's kappa.
    #[serde(serialize_with = "estimate")]
    pub kappa: Result<Kappa, NotEstimable>,
}

/// Whole-body phenotypes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phenotypes {
    /// Participants with a phenotype.
    pub n: usize,
    /// All lesions avid.
    pub all_avid: usize,
    /// Some avid.
    pub mixed: usize,
    /// None avid.
    pub none_avid: usize,
    /// Median fraction of lesions avid.
    pub avid_fraction_by_count: Summary,
    /// Median fraction of MTV avid.
    pub avid_fraction_by_mtv: Summary,
}

/// Baseline PET against biopsy HER2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Participants with both a baseline SUVmax and a biopsy HER2 category.
    pub n: usize,
    /// SUVmax by HER2 category, lowest category first.
    pub by_category: Vec<CategorySummary>,
    /// ROC of the per-patient highest SUVmax, HER2-expressing vs HER2-zero.
    #[serde(serialize_with = "estimate")]
    pub roc_patient: Result<Roc, NotEstimable>,
    /// ROC of the biopsied lesion's SUVmax.
    #[serde(serialize_with = "estimate")]
    pub roc_biopsied: Result<Roc, NotEstimable>,
    /// Sensitivity and specificity of the per-patient SUVmax at the protocol threshold.
    pub at_threshold_patient: DiagnosticAt,
    /// The same for the biopsied lesion.
    pub at_threshold_biopsied: DiagnosticAt,
    /// Agreement of the biopsied lesion's PET status with its pathology.
    pub agreement: Agreement,
    /// Whole-body phenotypes.
    pub phenotypes: Phenotypes,
}

/// Every HER2 category in order.
const CATEGORIES: [Her2Category; 4] = [
    Her2Category::Null,
    Her2Category::Ultralow,
    Her2Category::Low,
    Her2Category::Positive,
];

pub(super) fn diagnostic(ds: &Dataset) -> Diagnostic {
    let rows: Vec<_> = ds
        .participants
        .iter()
        .filter(|r| r.her2_expressing.is_some())
        .collect();
    let split = |value: &dyn Fn(&crate::dataset::ParticipantRow) -> Option<f64>| {
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for r in &rows {
            if let (Some(v), Some(e)) = (value(r), r.her2_expressing) {
                if e { pos.push(v) } else { neg.push(v) }
            }
        }
        (pos, neg)
    };
    let (pp, pn) = split(&|r| r.baseline_suv_max);
    let (bp, bn) = split(&|r| r.biopsied.as_ref().and_then(|b| b.suv_max));
    let threshold = ds.rules.avid_suvmax_threshold;
    let by_category = CATEGORIES
        .iter()
        .map(|c| {
            let of = |f: &dyn Fn(&crate::dataset::ParticipantRow) -> Option<f64>| {
                let v: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.her2_category == Some(*c))
                    .filter_map(|r| f(r))
                    .collect();
                Summary::of(&v)
            };
            CategorySummary {
                category: *c,
                label: c.label(),
                patient_suv_max: of(&|r| r.baseline_suv_max),
                biopsied_suv_max: of(&|r| r.biopsied.as_ref().and_then(|b| b.suv_max)),
            }
        })
        .collect();
    Diagnostic {
        n: pp.len() + pn.len(),
        by_category,
        roc_patient: roc(&pp, &pn, LEVEL),
        roc_biopsied: roc(&bp, &bn, LEVEL),
        at_threshold_patient: at_threshold(&pp, &pn, threshold, LEVEL),
        at_threshold_biopsied: at_threshold(&bp, &bn, threshold, LEVEL),
        agreement: agreement(ds),
        phenotypes: phenotypes(ds),
    }
}

fn agreement(ds: &Dataset) -> Agreement {
    let mut table = [[0u64; 2]; 2];
    for r in &ds.participants {
        let pet = r.biopsied.as_ref().and_then(|b| b.avid);
        if let (Some(pet), Some(biopsy)) = (pet, r.her2_expressing) {
            table[usize::from(pet)][usize::from(biopsy)] += 1;
        }
    }
    Agreement {
        table,
        kappa: cohen_kappa(table, LEVEL),
    }
}

fn phenotypes(ds: &Dataset) -> Phenotypes {
    let ph: Vec<_> = ds
        .participants
        .iter()
        .filter_map(|r| r.phenotype.as_ref())
        .collect();
    let count = |c: PhenotypeClass| ph.iter().filter(|p| p.class == c).count();
    let by_count: Vec<f64> = ph.iter().map(|p| p.avid_fraction_by_count).collect();
    let by_mtv: Vec<f64> = ph.iter().filter_map(|p| p.avid_fraction_by_mtv).collect();
    Phenotypes {
        n: ph.len(),
        all_avid: count(PhenotypeClass::AllAvid),
        mixed: count(PhenotypeClass::Mixed),
        none_avid: count(PhenotypeClass::NoneAvid),
        avid_fraction_by_count: Summary::of(&by_count),
        avid_fraction_by_mtv: Summary::of(&by_mtv),
    }
}
