//! `her2ex simulate`: the operating characteristics of the study's analyses over many
//! virtual trials, for the study director and the statistician planning or monitoring
//! the trial. Everything computed is in `analysis::simulate`; this file reads the
//! arguments, shows progress and prints.

use std::fmt::Write as _;
use std::path::PathBuf;

use analysis::simulate::{
    Assumptions, DEFAULT_ASSUMPTIONS_TOML, Distribution, OcReport, oc_chart,
    operating_characteristics,
};
use analysis::stats::NotEstimable;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// The default seed: the study's start date, so a run is reproducible without a flag.
const DEFAULT_SEED: u64 = 20251003;

/// Arguments of `her2ex simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// TOML assumptions file to use instead of the shipped defaults (see
    /// --print-assumptions for the format and every default's source).
    #[arg(long, value_name = "FILE")]
    assumptions: Option<PathBuf>,
    /// Print the assumptions in force (the defaults, or FILE's text) and exit.
    #[arg(long)]
    print_assumptions: bool,
    /// Virtual trials per trial size.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    replicates: usize,
    /// Women enrolled per trial: one size or a comma-separated list.
    #[arg(
        long = "n",
        value_delimiter = ',',
        default_value = "50,70,100,150",
        value_name = "N,..."
    )]
    sizes: Vec<usize>,
    /// Seed of the random numbers; the same seed gives the same numbers.
    #[arg(long, default_value_t = DEFAULT_SEED, value_name = "S")]
    seed: u64,
    /// Print the assumptions and every number as JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the picture of power and CI width against n to FILE (SVG).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// Runs the command; 0 on success.
pub fn run(a: SimulateArgs) -> anyhow::Result<u8> {
    let text = match &a.assumptions {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading assumptions {}", path.display()))?,
        None => DEFAULT_ASSUMPTIONS_TOML.to_string(),
    };
    let assumptions = Assumptions::parse(&text).with_context(|| match &a.assumptions {
        Some(path) => format!("assumptions {}", path.display()),
        None => "the shipped assumptions".to_string(),
    })?;
    if a.print_assumptions {
        print!("{text}");
        return Ok(0);
    }
    let bar = ProgressBar::new((a.replicates * a.sizes.len()) as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} virtual trials {eta}") {
        bar.set_style(style);
    }
    let report =
        operating_characteristics(&assumptions, &a.sizes, a.replicates, a.seed, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if let Some(path) = &a.svg {
        std::fs::write(path, oc_chart("simulate", &report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        let out = serde_json::json!({
            "assumptions": assumptions,
            "operating_characteristics": report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(0)
}

/// "mean [2.5th–97.5th]" with `d` decimals, or the reason there is none.
fn spread(d: &Result<Distribution, NotEstimable>, decimals: usize) -> String {
    match d {
        Ok(d) => format!(
            "{:.*} [{:.*}–{:.*}]",
            decimals, d.mean, decimals, d.p2_5, decimals, d.p97_5
        ),
        Err(_) => "not estimable".to_string(),
    }
}

fn mean(d: &Result<Distribution, NotEstimable>) -> String {
    d.as_ref()
        .map(|d| format!("{:.3}", d.mean))
        .unwrap_or_else(|_| "—".to_string())
}

/// The human-readable table: design, then estimates, then power.
fn table(r: &OcReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Operating characteristics: {} virtual trials per size, seed {}, SUVmax threshold {}, \
         null ROC area {}, {:.0} % intervals.\nMeans with the 2.5th–97.5th percentiles over \
         the replicates in brackets.\n",
        r.replicates,
        r.seed,
        r.suvmax_threshold,
        r.null_auc,
        100.0 * r.level
    );
    let _ = writeln!(
        s,
        "{:>5}  {:>16}  {:>14}  {:>14}  {:>9}  {:>14}",
        "n", "screened", "arm 1 (T-DXd)", "arm 2", "off study", "accrual months"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:>5}  {:>16}  {:>14}  {:>14}  {:>9.1}  {:>14}",
            row.n,
            spread(&Ok(row.screened), 0),
            spread(&Ok(row.arm1), 0),
            spread(&Ok(row.arm2), 0),
            row.off_study.mean,
            spread(&Ok(row.accrual_months), 1),
        );
    }
    let _ = writeln!(
        s,
        "\n{:>5}  {:>21}  {:>11}  {:>21}  {:>21}  {:>21}",
        "n", "ROC area", "AUC CI width", "sensitivity", "specificity", "kappa"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:>5}  {:>21}  {:>11}  {:>21}  {:>21}  {:>21}",
            row.n,
            spread(&row.auc, 3),
            mean(&row.auc_ci_width),
            spread(&row.sensitivity, 3),
            spread(&row.specificity, 3),
            spread(&row.kappa, 3),
        );
    }
    let _ = writeln!(
        s,
        "\n{:>5}  {:>16}  {:>16}  {:>16}  {:>16}  not estimable",
        "n", "power AUC > null", "sens. CI width", "spec. CI width", "log-rank power"
    );
    for row in &r.rows {
        let ne: Vec<String> = row
            .not_estimable
            .iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|(k, v)| format!("{k} {:.1} %", 100.0 * v))
            .collect();
        let _ = writeln!(
            s,
            "{:>5}  {:>16}  {:>16}  {:>16}  {:>16}  {}",
            row.n,
            format!("{:.1} %", 100.0 * row.auc_power),
            mean(&row.sensitivity_ci_width),
            mean(&row.specificity_ci_width),
            format!("{:.1} %", 100.0 * row.log_rank_power),
            if ne.is_empty() {
                "—".to_string()
            } else {
                ne.join(", ")
            },
        );
    }
    s
}
