//! `her2ex pet import DIR`: copies a folder's DICOM files into the data directory's
//! content-addressed archive (the same archive the DICOM receiver of `her2ex serve` fills),
//! de-identified, as images of the site given with `--site`.
//!
//! Every run leaves its receipt in the audit trail (`trial::receipts`): the folder, the
//! operating-system account that ran it, the site and what became of the files, written
//! as `system:folder-import` (the command line has no signed-in user), also when the
//! import fails half-way.

use std::path::PathBuf;

use anyhow::Context;
use archive::{Receipt, Via};

/// Arguments of `her2ex pet import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Folder to import (searched recursively; DICOMDIR and non-DICOM files are skipped).
    dir: PathBuf,
    /// The site whose images these are (e.g. KS): only its users see and quantify them.
    #[arg(long, env = "HER2EX_SITE")]
    site: String,
    /// The data directory holding the archive, and the database holding its index and
    /// the import's receipt.
    #[command(flatten)]
    data: crate::DataArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the import; exit code 0, or 1 when some instance conflicts with a stored version.
pub fn run(a: &ImportArgs) -> anyhow::Result<u8> {
    let site = protocol::SiteCode::parse(&a.site)
        .map_err(|r| anyhow::anyhow!("--site {:?}: {}", a.site, r.message))?;
    // The store is opened first: an import whose receipt could not be kept is not begun.
    let (rt, store, archive) = a.data.open_blocking()?;
    let trial = trial::Trial::new(store);
    let bar = if a.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut receipt = Receipt::start(
        Via::FolderImport {
            folder: a.dir.display().to_string(),
            os_user: os_user(),
            files: 0,
        },
        site.as_str(),
        archive.now(),
    );
    let mut files = 0;
    let imported = archive::import_folder(&archive, &a.dir, site.as_str(), &mut |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        files = p.total as u64;
        receipt.counts.file(&p.outcome);
    });
    // The index rows queued by the import are written before its receipt says it ended.
    let imported = imported.and_then(|report| archive.flush_index().map(|()| report));
    receipt.ended_at = archive.now();
    receipt.ended = match &imported {
        Ok(_) => "completed".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    if let Via::FolderImport { files: found, .. } = &mut receipt.via {
        *found = files;
    }
    let recorded = rt.block_on(trial.record_receipt(&receipt));
    if let (Err(e), Err(_)) = (&recorded, &imported) {
        tracing::error!(error = %e.explain(), "the failed import's receipt was not recorded");
    }
    let report = imported.with_context(|| format!("importing {}", a.dir.display()))?;
    recorded.map_err(|e| {
        anyhow::anyhow!(
            "the files were imported but the import's receipt was not recorded in the audit \
             trail: {}",
            e.explain()
        )
    })?;
    bar.finish_and_clear();
    if a.json {
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|s| serde_json::json!({"path": s.path, "reason": s.reason.to_string()}))
            .collect();
        let out = serde_json::json!({
            "files": report.files, "new": report.new, "duplicate": report.duplicate,
            "conflict": report.conflict, "skipped": skipped, "series": report.series,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} files: {} new, {} already stored, {} conflicting, {} skipped; {} series",
            report.files,
            report.new,
            report.duplicate,
            report.conflict,
            report.skipped.len(),
            report.series.len()
        );
        for s in &report.skipped {
            println!("  skipped {}: {}", s.path.display(), s.reason);
        }
        if report.conflict > 0 {
            println!(
                "  conflicting versions are kept beside the stored ones; check them before quantifying"
            );
        }
    }
    Ok(u8::from(report.conflict > 0))
}

/// The operating-system account running this command, for the receipt: `$USER` (or
/// `$LOGNAME`), else the numeric user id.
fn os_user() -> String {
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| format!("uid {}", rustix::process::getuid().as_raw()))
}
