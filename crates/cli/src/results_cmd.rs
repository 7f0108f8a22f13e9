//! `her2ex analyse` and `her2ex report`: the study's answers as of a data cut-off.
//!
//! `analyse --json` prints every analysis's numbers (keys in `docs/analysis.md`);
//! without `--json` it prints a short summary. `report --out FILE.html` writes the
//! self-contained HTML study report. Both act for a named account that may take them
//! (statistician or study director) and are recorded in the audit trail with that
//! account, the cut-off and the chain head.
//!
//! Exit codes: 0 done; 1 refused (the account may not, the cut-off lies in the future,
//! bad arguments); 2 the report could not be written.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use protocol::outputs::OutputKind;
use trial::Trial;
use trial::analyses::StudyResults;

use crate::DataArgs;
use crate::export_cmd::ExportArgs;

/// `her2ex analyse`
#[derive(Args)]
pub struct AnalyseArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    who: ExportArgs,
    /// Print every number as JSON (keys documented in docs/analysis.md).
    #[arg(long)]
    json: bool,
}

/// `her2ex report`
#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    who: ExportArgs,
    /// The HTML file to write.
    #[arg(long, default_value = "her2ex-report.html")]
    out: PathBuf,
}

async fn results(
    data: &DataArgs,
    who: &ExportArgs,
    kind: OutputKind,
    destination: &str,
) -> anyhow::Result<Result<StudyResults, u8>> {
    let as_of = match who
        .as_of
        .as_deref()
        .map(crate::export_cmd::parse_as_of)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(Err(1));
        }
    };
    let trial = Trial::new(data.open().await?);
    let taken = async {
        let user = trial.account_user(&who.user).await?;
        trial.take_results(&user, kind, as_of, destination).await
    }
    .await;
    match taken {
        Ok(r) => Ok(Ok(r)),
        Err(e) => {
            eprintln!("{}", e.explain());
            Ok(Err(crate::exit_code(&e)))
        }
    }
}

/// Runs `her2ex analyse`.
pub async fn analyse(a: AnalyseArgs) -> anyhow::Result<u8> {
    let r = match results(&a.data, &a.who, OutputKind::Analysis, "stdout").await? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.analyses)?);
        return Ok(0);
    }
    let an = &r.analyses;
    let c = &an.cut_off;
    println!(
        "HER2-Ex analyses as of {} (audit log up to event {}, chain head {})",
        c.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        c.head_seq,
        c.head_hash
    );
    println!(
        "participants: {} registered, {} enrolled, {} in arm 1, {} in arm 2",
        an.counts.registered, an.counts.enrolled, an.counts.arm1, an.counts.arm2
    );
    match &an.diagnostic.roc_patient {
        Ok(roc) => println!(
            "ROC of per-patient SUVmax (HER2-expressing vs zero, {} vs {}): AUC {:.3}{}",
            roc.n_positive,
            roc.n_negative,
            roc.auc,
            roc.ci
                .as_ref()
                .map(|i| format!(" (95 % CI {:.3}–{:.3})", i.lower, i.upper))
                .unwrap_or_default()
        ),
        Err(e) => println!("ROC of per-patient SUVmax: {e}"),
    }
    println!("(every number: her2ex analyse --json)");
    Ok(0)
}

/// Runs `her2ex report`.
pub async fn report(a: ReportArgs) -> anyhow::Result<u8> {
    let destination = a.out.display().to_string();
    let r = match results(&a.data, &a.who, OutputKind::Report, &destination).await? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let html = analysis::report::html(&r.study, &r.dataset, &r.analyses);
    if let Err(e) = write_atomically(&a.out, html.as_bytes()) {
        eprintln!("error: {e:#}");
        return Ok(2);
    }
    println!(
        "wrote the study report of {} participants as of {} to {}",
        r.dataset.participants.len(),
        r.analyses
            .cut_off
            .as_of
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        a.out.display()
    );
    Ok(0)
}

/// Writes beside the target and renames, so a half-written report is never found.
fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let partial = out.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving {} to {}", partial.display(), out.display()))
}
