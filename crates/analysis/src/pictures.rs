//! The study's pictures from the data set and the analyses: which chart shows what,
//! with which colours for which group. The drawing itself is [`crate::svg`].

use protocol::Arm;

use crate::analyses::Analyses;
use crate::dataset::{DAYS_PER_MONTH, Dataset, ParticipantRow};
use crate::svg::{
    BarGroup, KmSeries, LesionDot, RocSeries, SpiderSeries, StripGroup, StripPoint, SwimmerLane,
    SwimmerMarkerKind, WaterfallBar,
};

/// A picture of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Element id (unique in a page).
    pub id: String,
    /// Title.
    pub title: String,
    /// What to read in it, one sentence.
    pub caption: String,
    /// The SVG.
    pub svg: String,
}

/// Category names for charts coloured by baseline PET status.
const PET_CATEGORIES: [&str; 3] = ["PET-positive", "PET-negative", "PET not read"];

fn pet_category(r: &ParticipantRow) -> usize {
    match r.pet_positive {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    }
}

fn figure(id: &str, title: &str, caption: String, svg: String) -> Figure {
    Figure {
        id: id.to_string(),
        title: title.to_string(),
        caption,
        svg,
    }
}

/// Every study-level picture, in report order.
pub fn figures(ds: &Dataset, a: &Analyses) -> Vec<Figure> {
    let threshold = ds.rules.avid_suvmax_threshold;
    let mut out = vec![
        suv_by_category(ds, threshold, false),
        suv_by_category(ds, threshold, true),
        roc(a),
        waterfall(ds),
        swimmer(ds),
        spider(ds),
        pfs(ds, a),
    ];
    out.push(figure(
        "fig-ae",
        "Adverse events in arm 1 by worst CTCAE grade",
        "Participants of arm 1 with each adverse-event term, stacked by the worst grade \
         they had."
            .into(),
        adverse_events(a),
    ));
    out
}

fn suv_by_category(ds: &Dataset, threshold: f64, biopsied: bool) -> Figure {
    let groups: Vec<StripGroup> = [
        protocol::journey::pathology::Her2Category::Null,
        protocol::journey::pathology::Her2Category::Ultralow,
        protocol::journey::pathology::Her2Category::Low,
        protocol::journey::pathology::Her2Category::Positive,
    ]
    .iter()
    .map(|c| StripGroup {
        label: c.label().to_string(),
        points: ds
            .participants
            .iter()
            .filter(|r| r.her2_category == Some(*c))
            .filter_map(|r| {
                let v = if biopsied {
                    r.biopsied.as_ref().and_then(|b| b.suv_max)
                } else {
                    r.baseline_suv_max
                }?;
                Some(StripPoint {
                    value: v,
                    label: r.study_id.clone(),
                    highlighted: false,
                })
            })
            .collect(),
    })
    .collect();
    let (id, title, what) = if biopsied {
        (
            "fig-suv-biopsied",
            "SUVmax of the biopsied lesion by its HER2 category",
            "the biopsied lesion's SUVmax",
        )
    } else {
        (
            "fig-suv-patient",
            "Highest SUVmax per patient by biopsy HER2 category",
            "each patient's highest lesion SUVmax",
        )
    };
    let svg = crate::svg::strip_box(
        id,
        title,
        "SUVmax (g/mL)",
        &groups,
        Some((threshold, &format!("SUVmax {threshold}"))),
    );
    figure(
        id,
        title,
        format!(
            "One dot per participant: {what} at baseline HER2-PET, by the HER2 category of \
             the study biopsy; box: median and quartiles; dashed line: the protocol's \
             threshold."
        ),
        svg,
    )
}

fn roc(a: &Analyses) -> Figure {
    let mut series = Vec::new();
    for (label, r) in [
        ("Per patient (highest SUVmax)", &a.diagnostic.roc_patient),
        ("Biopsied lesion", &a.diagnostic.roc_biopsied),
    ] {
        if let Ok(r) = r {
            series.push(RocSeries {
                label: format!("{label}, AUC {:.2}", r.auc),
                points: r
                    .points
                    .iter()
                    .map(|p| (1.0 - p.specificity, p.sensitivity))
                    .collect(),
            });
        }
    }
    let at = &a.diagnostic.at_threshold_patient;
    let marker = match (&at.sensitivity, &at.specificity) {
        (Ok(se), Ok(sp)) => Some((1.0 - sp.estimate, se.estimate)),
        _ => None,
    };
    let label = format!("SUVmax {}", at.threshold);
    let title = "ROC of baseline SUVmax: HER2-expressing vs HER2-zero";
    figure(
        "fig-roc",
        title,
        "Sensitivity against 1 − specificity over every SUVmax threshold; the marked point \
         is the protocol's threshold on the per-patient curve."
            .into(),
        crate::svg::roc_curve(
            "fig-roc",
            title,
            &series,
            marker.map(|(x, y)| (x, y, label.as_str())),
        ),
    )
}

fn arm1(ds: &Dataset) -> impl Iterator<Item = &ParticipantRow> {
    ds.participants.iter().filter(|r| r.arm == Some(Arm::Arm1))
}

fn waterfall(ds: &Dataset) -> Figure {
    let bars: Vec<WaterfallBar> = arm1(ds)
        .filter_map(|r| {
            Some(WaterfallBar {
                label: r.study_id.clone(),
                value: r.best_change_pct?,
                category: pet_category(r),
            })
        })
        .collect();
    let title = "Best change in the sum of target diameters (arm 1)";
    figure(
        "fig-waterfall",
        title,
        "One bar per participant of arm 1 with a CT assessment, coloured by baseline \
         HER2-PET status; dashed lines at +20 % (progression) and −30 % (partial response)."
            .into(),
        crate::svg::waterfall("fig-waterfall", title, &bars, &PET_CATEGORIES),
    )
}

fn months(days: i64) -> f64 {
    days as f64 / DAYS_PER_MONTH
}

fn swimmer(ds: &Dataset) -> Figure {
    let cut = ds.rules.cut_off_date;
    let lanes: Vec<SwimmerLane> = arm1(ds)
        .filter_map(|r| {
            let start = r.tdxd_start?;
            let ended = r.progression_on.or(r.died_on);
            let last = r.tdxd_last.unwrap_or(start) + chrono::Duration::days(21);
            let end = ended.map_or(last.min(cut), |e| e.max(start));
            let mut markers = Vec::new();
            if let Some(p) = r.size_course.iter().find(|p| p.change_pct <= -30.0) {
                markers.push((months(p.day), SwimmerMarkerKind::Response));
            }
            if let Some(d) = r.progression_on {
                markers.push((
                    months((d - start).num_days()),
                    SwimmerMarkerKind::Progression,
                ));
            }
            if let Some(d) = r.died_on {
                markers.push((months((d - start).num_days()), SwimmerMarkerKind::Death));
            }
            Some(SwimmerLane {
                label: r.study_id.clone(),
                end: months((end - start).num_days()),
                ongoing: ended.is_none()
                    && matches!(r.state.as_str(), "on_treatment" | "response_pet_done"),
                category: pet_category(r),
                markers,
            })
        })
        .collect();
    let title = "Time on T-DXd (arm 1)";
    figure(
        "fig-swimmer",
        title,
        "One lane per participant from her first T-DXd administration: first response \
         (≥ 30 % shrinkage), progression and death marked; an arrow when still on treatment."
            .into(),
        crate::svg::swimmer("fig-swimmer", title, &lanes, &PET_CATEGORIES),
    )
}

fn spider(ds: &Dataset) -> Figure {
    let series: Vec<SpiderSeries> = arm1(ds)
        .filter(|r| !r.size_course.is_empty())
        .map(|r| {
            let mut points = vec![(0.0, 0.0)];
            points.extend(r.size_course.iter().map(|p| (months(p.day), p.change_pct)));
            SpiderSeries {
                label: r.study_id.clone(),
                category: pet_category(r),
                points,
            }
        })
        .collect();
    let title = "Change in the sum of target diameters over time (arm 1)";
    figure(
        "fig-spider",
        title,
        "One line per participant of arm 1 from the start of T-DXd, coloured by baseline \
         HER2-PET status."
            .into(),
        crate::svg::spider("fig-spider", title, &series, &PET_CATEGORIES),
    )
}

fn pfs(ds: &Dataset, a: &Analyses) -> Figure {
    let mut series = Vec::new();
    for (positive, g) in [true, false].iter().zip(&a.pfs.groups) {
        let Ok(km) = &g.km else { continue };
        let steps = km
            .steps
            .iter()
            .map(|s| (s.time / DAYS_PER_MONTH, s.survival, s.lower, s.upper))
            .collect();
        let censored = km
            .steps
            .iter()
            .filter(|s| s.censored > 0)
            .map(|s| (s.time / DAYS_PER_MONTH, s.survival))
            .collect();
        let exits = arm1(ds)
            .filter(|r| r.pet_positive == Some(*positive))
            .filter_map(|r| r.pfs.as_ref())
            .map(|t| t.days as f64 / DAYS_PER_MONTH)
            .collect();
        series.push(KmSeries {
            label: g.label.clone(),
            steps,
            censored,
            exits,
        });
    }
    let title = "Progression-free survival by baseline HER2-PET status (arm 1)";
    figure(
        "fig-pfs",
        title,
        "Kaplan–Meier estimates with 95 % bands (log(−log) Greenwood); ticks mark censored \
         follow-up; numbers at risk under the plot."
            .into(),
        crate::svg::kaplan_meier(
            "fig-pfs",
            title,
            "Time since the first T-DXd administration (months)",
            &series,
        ),
    )
}

fn adverse_events(a: &Analyses) -> String {
    let groups: Vec<BarGroup> = a
        .safety
        .arms
        .first()
        .map(|arm| {
            arm.terms
                .iter()
                .map(|t| BarGroup {
                    label: t.term.clone(),
                    values: t.by_worst_grade.to_vec(),
                })
                .collect()
        })
        .unwrap_or_default();
    crate::svg::stacked_bars(
        "fig-ae",
        "Adverse events in arm 1 by worst CTCAE grade",
        "Participants",
        &groups,
        &["Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5"],
    )
}

/// The whole-body heterogeneity picture of one participant (`None` without confirmed
/// lesions).
pub fn heterogeneity(ds: &Dataset, study_id: &str) -> Option<Figure> {
    let dots: Vec<LesionDot> = ds
        .lesions
        .iter()
        .filter(|l| l.study_id == study_id)
        .filter_map(|l| {
            Some(LesionDot {
                site: l.site.clone(),
                suv_max: l.suv_max?,
                biopsied: l.biopsied,
                avid: l.avid,
            })
        })
        .collect();
    if dots.is_empty() {
        return None;
    }
    let id = format!("fig-het-{}", study_id.to_lowercase());
    let title = format!("{study_id}: lesion SUVmax by anatomical site");
    let svg = crate::svg::heterogeneity(&id, &title, &dots, ds.rules.avid_suvmax_threshold);
    Some(Figure {
        id,
        title,
        caption: "Every reader-confirmed lesion of the baseline HER2-PET; the biopsied \
                  lesion is ringed."
            .into(),
        svg,
    })
}
