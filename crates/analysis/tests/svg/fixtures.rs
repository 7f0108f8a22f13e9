//! Realistic inputs for the charts, built by formula (no randomness) so snapshots are
//! stable: a study of 65 participants (25 HER2-zero, 25 HER2-low, 15 HER2-positive).

use analysis::svg::*;

/// A well-spread deterministic sequence in [0, 1): the fractional parts of i × (√5 − 1)/2.
pub fn spread(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract()
}

/// The three HER2 groups' SUVmax values; participant 17 of HER2-low is highlighted.
pub fn strip_groups() -> Vec<StripGroup> {
    let group = |label: &str, n: usize, base: f64, range: f64, offset: usize| StripGroup {
        label: label.into(),
        points: (0..n)
            .map(|i| StripPoint {
                value: base + range * spread(i + offset).powf(1.6),
                label: format!("HX-{:03}", offset + i + 1),
                highlighted: label == "HER2-low" && i == 16,
            })
            .collect(),
    };
    vec![
        group("HER2-zero", 25, 1.8, 5.0, 0),
        group("HER2-low", 25, 3.5, 9.0, 25),
        group("HER2-positive", 15, 6.0, 14.0, 50),
    ]
}

/// Empirical ROC points of scores of positives against negatives (ties move diagonally).
pub fn roc_points(pos: &[f64], neg: &[f64]) -> Vec<(f64, f64)> {
    let mut cuts: Vec<f64> = pos.iter().chain(neg).copied().collect();
    cuts.sort_by(|a, b| b.total_cmp(a));
    cuts.dedup();
    let mut out = vec![(0.0, 0.0)];
    for c in cuts {
        let tp = pos.iter().filter(|v| **v >= c).count() as f64 / pos.len() as f64;
        let fp = neg.iter().filter(|v| **v >= c).count() as f64 / neg.len() as f64;
        out.push((fp, tp));
    }
    out
}

/// ROC of SUVmax and of SUVpeak for HER2-expressing (low + positive) vs HER2-zero.
pub fn roc_series() -> Vec<RocSeries> {
    let g = strip_groups();
    let neg: Vec<f64> = g[0].points.iter().map(|p| p.value).collect();
    let pos: Vec<f64> = g[1]
        .points
        .iter()
        .chain(&g[2].points)
        .map(|p| p.value)
        .collect();
    let peak = |v: &[f64]| {
        v.iter()
            .enumerate()
            .map(|(i, x)| x * (0.7 + 0.2 * spread(i + 7)))
            .collect::<Vec<_>>()
    };
    vec![
        RocSeries {
            label: "SUVmax, AUC 0.87 (95 % CI 0.78–0.95)".into(),
            points: roc_points(&pos, &neg),
        },
        RocSeries {
            label: "SUVpeak, AUC 0.81".into(),
            points: roc_points(&peak(&pos), &peak(&neg)),
        },
    ]
}

/// Best % change of 30 participants in three categories.
pub fn waterfall_bars() -> Vec<WaterfallBar> {
    (0..30)
        .map(|i| WaterfallBar {
            label: format!("HX-{:03}", i + 1),
            value: -95.0 + 140.0 * spread(i + 3).powf(1.3),
            category: i % 3,
        })
        .collect()
}

/// The HER2 categories.
pub const CATEGORIES: [&str; 3] = ["HER2-zero", "HER2-low", "HER2-positive"];

/// Swimmer lanes of 12 participants.
pub fn swimmer_lanes() -> Vec<SwimmerLane> {
    (0..12)
        .map(|i| {
            let end = 2.0 + 20.0 * spread(i + 11);
            let mut markers = vec![];
            if i % 3 != 0 {
                markers.push((1.4 + 0.2 * i as f64 % 1.0, SwimmerMarkerKind::Response));
            }
            let ongoing = i % 4 == 1;
            if !ongoing && i % 2 == 0 {
                markers.push((end, SwimmerMarkerKind::Progression));
            }
            if i == 6 {
                markers.push((end + 1.5, SwimmerMarkerKind::Death));
            }
            if i == 9 {
                markers.push((end, SwimmerMarkerKind::Censored));
            }
            SwimmerLane {
                label: format!("HX-{:03}", i + 1),
                end,
                ongoing,
                category: i % 3,
                markers,
            }
        })
        .collect()
}

/// Spider lines of 9 participants, assessments every 1.5 months.
pub fn spider_series() -> Vec<SpiderSeries> {
    (0..9)
        .map(|i| {
            let slope = -25.0 + 35.0 * spread(i + 2);
            let n = 3 + i % 4;
            let points = (0..=n)
                .map(|k| {
                    (
                        1.5 * k as f64,
                        if k == 0 {
                            0.0
                        } else {
                            (slope * (k as f64).sqrt()).max(-100.0)
                        },
                    )
                })
                .collect();
            SpiderSeries {
                label: format!("HX-{:03}", i + 1),
                category: i % 3,
                points,
            }
        })
        .collect()
}

/// Kaplan–Meier curve of `exits` where `events[i]` says whether exit i is progression,
/// with a Greenwood band (plain, clamped) — a test-side estimator to feed the picture.
pub fn km(label: &str, exits: &[f64], events: &[bool]) -> KmSeries {
    let mut order: Vec<usize> = (0..exits.len()).collect();
    order.sort_by(|a, b| exits[*a].total_cmp(&exits[*b]));
    let (mut s, mut var, mut at_risk) = (1.0f64, 0.0f64, exits.len() as f64);
    let mut steps = vec![(0.0, 1.0, 1.0, 1.0)];
    let mut censored = vec![];
    for &i in &order {
        if events[i] {
            var += 1.0 / (at_risk * (at_risk - 1.0)).max(1.0);
            s *= 1.0 - 1.0 / at_risk;
            let se = s * var.sqrt();
            steps.push((
                exits[i],
                s,
                (s - 1.96 * se).max(0.0),
                (s + 1.96 * se).min(1.0),
            ));
        } else {
            censored.push((exits[i], s));
        }
        at_risk -= 1.0;
    }
    KmSeries {
        label: label.into(),
        steps,
        censored,
        exits: exits.to_vec(),
    }
}

/// Two arms' progression-free survival.
pub fn km_series() -> Vec<KmSeries> {
    let exits = |n: usize, scale: f64, off: usize| {
        (0..n)
            .map(|i| 0.5 + scale * spread(i + off))
            .collect::<Vec<_>>()
    };
    let events = |n: usize| (0..n).map(|i| i % 4 != 3).collect::<Vec<_>>();
    vec![
        km("HER2-low", &exits(25, 18.0, 1), &events(25)),
        km("HER2-zero", &exits(20, 11.0, 40), &events(20)),
    ]
}

/// One participant's lesions at four sites; the biopsied liver lesion is not the hottest.
pub fn lesions() -> Vec<LesionDot> {
    let l = |site: &str, suv: f64, biopsied: bool| LesionDot {
        site: site.into(),
        suv_max: suv,
        biopsied,
        avid: suv >= 6.0,
    };
    vec![
        l("liver", 9.4, true),
        l("liver", 4.1, false),
        l("liver", 12.8, false),
        l("bone", 7.2, false),
        l("bone", 3.0, false),
        l("bone", 5.9, false),
        l("lymph node", 15.6, false),
        l("lung", 2.4, false),
        l("lung", 6.3, false),
    ]
}

/// Adverse events by term and worst CTCAE grade.
pub fn ae_groups() -> Vec<BarGroup> {
    let g = |label: &str, values: [u64; 5]| BarGroup {
        label: label.into(),
        values: values.to_vec(),
    };
    vec![
        g("Nausea", [18, 9, 2, 0, 0]),
        g("Fatigue", [12, 10, 3, 0, 0]),
        g("Neutrophil count decreased", [3, 6, 8, 2, 0]),
        g("Alopecia", [14, 4, 0, 0, 0]),
        g("Interstitial lung disease / pneumonitis", [1, 3, 1, 0, 1]),
        g("Anaemia", [5, 7, 4, 0, 0]),
    ]
}

/// The CTCAE grades, the stack labels of the adverse-event bars.
pub const GRADES: [&str; 5] = ["Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5"];
