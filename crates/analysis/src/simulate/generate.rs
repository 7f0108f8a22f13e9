//! One virtual trial: women screened at the sites until `n` are enrolled, each enrolled
//! woman with her biopsy's HER2 category, her lesions' SUVmax, her arm and, on T-DXd,
//! her best response, progression-free survival and adverse events.
//!
//! The model, in the order the draws are made (so a seed gives the same trial):
//! 1. arrivals: a Poisson process per site, merged (exponential gaps at the summed rate,
//!    the site drawn in proportion to its rate);
//! 2. screening: each criterion of [`SCREENING_ORDER`] fails with its probability, the
//!    first failure ends screening;
//! 3. HER2 category from its frequencies; lesions 1 + Poisson, capped; each lesion's log
//!    SUVmax = the woman's level (category log mean + a patient effect) + a lesion effect
//!    plus test–retest error, the two effects splitting the category's log SD so that one
//!    lesion's SUVmax has exactly the category's distribution (plus measurement error);
//!    in a heterogeneous HER2-expressing woman a non-biopsied lesion is, with the stated
//!    share, drawn from the HER2-null distribution instead (Mileva 2024);
//! 4. arm: HER2-expressing → arm 1 (T-DXd), HER2-null or ultralow when ultralow is not
//!    expressing → arm 2, HER2-positive → off study (settings default `OffStudyRefer`);
//! 5. arm 1: best % change (normal by PET status and category), PFS (Weibull by PET
//!    status) censored at the data cut-off and by loss to follow-up, adverse events.

use protocol::Rule;
use protocol::journey::pathology::Her2Category;
use rand::Rng;
use rand_distr::{Exp1, StandardNormal};
use serde::Serialize;

use super::assumptions::{Assumptions, LesionSite, LogNormal, RawAssumptions, SCREENING_ORDER};

/// A simulated trial: everyone screened, in screening order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimTrial {
    /// Everyone screened, enrolled or not.
    pub participants: Vec<SimParticipant>,
    /// Months from the first screening to the last enrolment.
    pub last_enrolment_months: f64,
    /// Months from the first screening to the data cut-off (last enrolment + follow-up).
    pub data_cutoff_months: f64,
}

impl SimTrial {
    /// The enrolled women, in screening order.
    pub fn enrolled(&self) -> impl Iterator<Item = &Enrolled> {
        self.participants.iter().filter_map(|p| match &p.screening {
            Screening::Enrolled(e) => Some(e.as_ref()),
            Screening::Failed { .. } => None,
        })
    }
}

/// One screened woman.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimParticipant {
    /// Screening number, from 1.
    pub number: usize,
    /// Site name.
    pub site: String,
    /// Months from the first screening of the trial.
    pub screened_months: f64,
    /// How screening ended.
    pub screening: Screening,
}

/// The result of screening.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Screening {
    /// Not eligible: the first criterion she failed.
    Failed {
        /// The failed criterion.
        criterion: Rule,
    },
    /// Enrolled.
    Enrolled(Box<Enrolled>),
}

/// An enrolled woman's simulated data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrolled {
    /// HER2 category of the study biopsy.
    pub her2: Her2Category,
    /// HER2-expressing under the assumptions' definition (the truth of the ROC).
    pub her2_expressing: bool,
    /// Liver background SUVmean.
    pub liver_background_suv: f64,
    /// Her lesions on PET1; the biopsied one first.
    pub lesions: Vec<SimLesion>,
    /// Index of the biopsied lesion in `lesions`.
    pub biopsied: usize,
    /// Highest lesion SUVmax.
    pub highest_suv_max: f64,
    /// PET-positive: highest SUVmax ≥ the threshold.
    pub pet_positive: bool,
    /// Whether her lesions were drawn as heterogeneous (some HER2-negative).
    pub heterogeneous: bool,
    /// Arm or off study, with treatment outcomes on arm 1.
    pub allocation: Allocation,
}

impl Enrolled {
    /// The biopsied lesion.
    pub fn biopsied_lesion(&self) -> &SimLesion {
        &self.lesions[self.biopsied]
    }
}

/// One lesion on PET1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimLesion {
    /// Anatomical site.
    pub site: LesionSite,
    /// SUVmax.
    pub suv_max: f64,
    /// Metabolic tumour volume, ml.
    pub mtv_ml: f64,
}

/// Where the biopsy sent her.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Arm 1, T-DXd, with what happened on it.
    Arm1(Treatment),
    /// Arm 2, safety follow-up.
    Arm2,
    /// HER2-positive biopsy: off study, referred.
    OffStudyHer2Positive,
}

/// Outcomes on T-DXd.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Treatment {
    /// Best % change in the sum of diameters.
    pub best_change_pct: f64,
    /// Progression-free survival from the first dose.
    pub pfs: PfsTime,
    /// Adverse events, at most one per term (the worst grade).
    pub adverse_events: Vec<SimAdverseEvent>,
}

/// A time to progression or censoring.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PfsTime {
    /// Months from the first T-DXd dose.
    pub months: f64,
    /// Progression or death (true) or censored (false).
    pub event: bool,
}

/// An adverse event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimAdverseEvent {
    /// CTCAE v5 term.
    pub term: String,
    /// CTCAE grade 1–5.
    pub grade: u8,
}

/// Simulates one trial that enrols `n_enrolled` women (screening until then).
///
/// Pure: the same assumptions, `n_enrolled` and generator state give the same trial.
pub fn simulate_trial<R: Rng + ?Sized>(
    assumptions: &Assumptions,
    n_enrolled: usize,
    rng: &mut R,
) -> SimTrial {
    let a = assumptions.raw();
    let total_rate: f64 = a.accrual.sites.iter().map(|s| s.screened_per_month).sum();
    let site_weights: Vec<f64> = a
        .accrual
        .sites
        .iter()
        .map(|s| s.screened_per_month)
        .collect();
    let mut participants = Vec::new();
    let mut latent = Vec::new();
    let (mut now, mut enrolled) = (0.0, 0);
    while enrolled < n_enrolled {
        if !participants.is_empty() {
            now += exp1(rng) / total_rate;
        }
        let site = &a.accrual.sites[categorical(&site_weights, rng)];
        let screening = match screen(a, rng) {
            Some(criterion) => Screening::Failed { criterion },
            None => {
                enrolled += 1;
                let (e, l) = enrol(a, rng);
                if let Some(l) = l {
                    latent.push((participants.len(), now, l));
                }
                Screening::Enrolled(Box::new(e))
            }
        };
        participants.push(SimParticipant {
            number: participants.len() + 1,
            site: site.name.clone(),
            screened_months: now,
            screening,
        });
    }
    let cutoff = now + a.accrual.min_follow_up_months;
    for (i, start, l) in latent {
        censor(
            &mut participants[i],
            cutoff - start - a.accrual.months_to_treatment,
            l,
        );
    }
    SimTrial {
        participants,
        last_enrolment_months: now,
        data_cutoff_months: cutoff,
    }
}

/// Latent times of an arm-1 woman: progression, and loss to follow-up.
struct Latent {
    progression: f64,
    loss: f64,
}

fn censor(p: &mut SimParticipant, follow_up: f64, l: Latent) {
    if let Screening::Enrolled(e) = &mut p.screening
        && let Allocation::Arm1(t) = &mut e.allocation
    {
        let censor_at = follow_up.min(l.loss).max(0.0);
        t.pfs = if l.progression <= censor_at {
            PfsTime {
                months: l.progression,
                event: true,
            }
        } else {
            PfsTime {
                months: censor_at,
                event: false,
            }
        };
    }
}

/// The first criterion failed, if any.
fn screen<R: Rng + ?Sized>(a: &RawAssumptions, rng: &mut R) -> Option<Rule> {
    SCREENING_ORDER.into_iter().find(|rule| {
        a.screen_failure
            .get(rule)
            .is_some_and(|&p| rng.random::<f64>() < p)
    })
}

fn enrol<R: Rng + ?Sized>(a: &RawAssumptions, rng: &mut R) -> (Enrolled, Option<Latent>) {
    let h = &a.her2;
    let cats = [
        Her2Category::Null,
        Her2Category::Ultralow,
        Her2Category::Low,
        Her2Category::Positive,
    ];
    let her2 = cats[categorical(&[h.null, h.ultralow, h.low, h.positive], rng)];
    let her2_expressing = match her2 {
        Her2Category::Low => true,
        Her2Category::Ultralow => a.analysis.ultralow_is_expressing,
        Her2Category::Null | Her2Category::Positive => false,
    };
    let liver_background_suv = draw_log_normal(&a.liver_background, rng);
    let (lesions, heterogeneous) = lesions(a, her2, rng);
    let highest_suv_max = lesions.iter().map(|l| l.suv_max).fold(0.0, f64::max);
    let pet_positive = highest_suv_max >= a.analysis.suvmax_threshold;
    let (allocation, latent) = match her2 {
        Her2Category::Positive => (Allocation::OffStudyHer2Positive, None),
        _ if her2_expressing => {
            let (t, l) = treat(a, her2, pet_positive, rng);
            (Allocation::Arm1(t), Some(l))
        }
        _ => (Allocation::Arm2, None),
    };
    let e = Enrolled {
        her2,
        her2_expressing,
        liver_background_suv,
        lesions,
        biopsied: 0,
        highest_suv_max,
        pet_positive,
        heterogeneous,
        allocation,
    };
    (e, latent)
}

fn suv_of(a: &RawAssumptions, c: Her2Category) -> &LogNormal {
    match c {
        Her2Category::Null => &a.suv.null,
        Her2Category::Ultralow => &a.suv.ultralow,
        Her2Category::Low => &a.suv.low,
        Her2Category::Positive => &a.suv.positive,
    }
}

/// The woman's lesions, the biopsied one first, and whether she is heterogeneous.
fn lesions<R: Rng + ?Sized>(
    a: &RawAssumptions,
    her2: Her2Category,
    rng: &mut R,
) -> (Vec<SimLesion>, bool) {
    let d = suv_of(a, her2);
    let within = a.heterogeneity.within_patient_log_sd.min(d.log_sd);
    let between = (d.log_sd * d.log_sd - within * within).max(0.0).sqrt();
    let level = d.median.ln() + between * normal(rng);
    let heterogeneous =
        her2 != Her2Category::Null && rng.random::<f64>() < a.heterogeneity.patient_share;
    let count = (1 + poisson(a.lesions.extra_mean, rng)).min(a.lesions.max);
    let sites: Vec<LesionSite> = a.lesions.sites.keys().copied().collect();
    let site_weights: Vec<f64> = a.lesions.sites.values().copied().collect();
    let null = &a.suv.null;
    let lesions = (0..count)
        .map(|i| {
            let negative = heterogeneous
                && i > 0
                && rng.random::<f64>() < a.heterogeneity.negative_lesion_share;
            let log_suv = if negative {
                null.median.ln() + null.log_sd * normal(rng)
            } else {
                level + within * normal(rng)
            };
            let measured = log_suv + a.suv.measurement_log_sd * normal(rng);
            SimLesion {
                site: sites[categorical(&site_weights, rng)],
                suv_max: measured.exp(),
                mtv_ml: a.lesions.mtv_median_ml * (a.lesions.mtv_log_sd * normal(rng)).exp(),
            }
        })
        .collect();
    (lesions, heterogeneous)
}

fn treat<R: Rng + ?Sized>(
    a: &RawAssumptions,
    her2: Her2Category,
    pet_positive: bool,
    rng: &mut R,
) -> (Treatment, Latent) {
    let r = &a.response;
    let offset = match her2 {
        Her2Category::Ultralow => r.offset_ultralow,
        Her2Category::Low => r.offset_low,
        Her2Category::Null | Her2Category::Positive => 0.0,
    };
    let mean = offset
        + if pet_positive {
            r.mean_change_pet_positive
        } else {
            r.mean_change_pet_negative
        };
    let best_change_pct = (mean + r.sd * normal(rng)).clamp(-100.0, 150.0);
    let median = if pet_positive {
        a.pfs.median_months_pet_positive
    } else {
        a.pfs.median_months_pet_negative
    };
    // Weibull by inversion: S(t) = exp(-(t/scale)^k) and S(median) = 1/2.
    let k = a.pfs.shape;
    let scale = median / std::f64::consts::LN_2.powf(1.0 / k);
    let progression = scale * exp1(rng).powf(1.0 / k);
    let per_month = a.accrual.loss_to_follow_up_per_year / 12.0;
    let loss = if per_month > 0.0 {
        exp1(rng) / per_month
    } else {
        f64::INFINITY
    };
    let mut adverse_events = Vec::new();
    for ae in &a.adverse_events {
        if rng.random::<f64>() < ae.rate {
            adverse_events.push(SimAdverseEvent {
                term: ae.term.clone(),
                grade: 1 + categorical(&ae.grades, rng) as u8,
            });
        }
    }
    // The PFS is set once the cut-off is known (after the last enrolment).
    let pending = PfsTime {
        months: 0.0,
        event: false,
    };
    let t = Treatment {
        best_change_pct,
        pfs: pending,
        adverse_events,
    };
    (t, Latent { progression, loss })
}

fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(Exp1)
}

fn draw_log_normal<R: Rng + ?Sized>(d: &LogNormal, rng: &mut R) -> f64 {
    d.median * (d.log_sd * normal(rng)).exp()
}

/// An index drawn with probability proportional to `weights` (validated: non-negative,
/// positive sum). Rounding can leave the uniform past the last cumulative weight, so the
/// last positive weight takes that remainder.
fn categorical<R: Rng + ?Sized>(weights: &[f64], rng: &mut R) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            if u < w {
                return i;
            }
            u -= w;
            last = i;
        }
    }
    last
}

/// A Poisson draw by Knuth's product of uniforms (mean validated ≤ 30).
fn poisson<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> usize {
    let limit = (-mean).exp();
    let mut product = rng.random::<f64>();
    let mut k = 0;
    while product > limit {
        product *= rng.random::<f64>();
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn a_trial_enrols_exactly_n_and_censors_at_the_cutoff() {
        let a = Assumptions::default();
        let t = simulate_trial(&a, 70, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(t.enrolled().count(), 70);
        assert!(t.participants.len() > 70, "some screen failures expected");
        for e in t.enrolled() {
            assert!(!e.lesions.is_empty() && e.lesions.len() <= 12);
            if let Allocation::Arm1(tr) = &e.allocation {
                assert!(tr.pfs.months >= 0.0 && tr.pfs.months <= t.data_cutoff_months);
                assert!((-100.0..=150.0).contains(&tr.best_change_pct));
            }
        }
    }

    #[test]
    fn categorical_never_picks_a_zero_weight() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            assert_eq!(categorical(&[0.0, 1.0, 0.0], &mut rng), 1);
        }
    }
}
