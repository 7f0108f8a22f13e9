//! `her2ex pet import DIR`: copies a folder's DICOM files into the data directory's
//! content-addressed archive (the same archive the DICOM receiver of `her2ex serve` fills),
//! de-identified, as images of the site given with `--site`.

use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `her2ex pet import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Folder to import (searched recursively; DICOMDIR and non-DICOM files are skipped).
    dir: PathBuf,
    /// The site whose images these are (e.g. KS): only its users see and quantify them.
    #[arg(long, env = "HER2EX_SITE")]
    site: String,
    /// The data directory holding the archive, and the database holding its index.
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
    // The database is async; the import blocks, on this thread, and asks the runtime for
    // the archive's index.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let store = rt.block_on(a.data.open())?;
    let archive = crate::open_archive(&a.data.data_dir, store, rt.handle().clone())?;
    let bar = if a.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = archive::import_folder(&archive, &a.dir, site.as_str(), &mut |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })
    .with_context(|| format!("importing {}", a.dir.display()))?;
    archive
        .flush_index()
        .context("writing the DICOM archive's index")?;
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
