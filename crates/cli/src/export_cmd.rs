//! `her2ex export …`: the casebook for other tools, as of a data cut-off.
//!
//! `export odm` writes one CDISC ODM 1.3.2 snapshot file; `export sdtm` writes the
//! SDTM-like CSV datasets and their data dictionary (`define.csv`) into a directory. Both
//! act for a named account with the export capability (data manager or statistician),
//! and each export is recorded in the audit trail with that account, the cut-off and the
//! chain head. Progress goes to stderr, the summary to stdout.
//!
//! Exit codes: 0 written; 1 refused (the account may not export, the cut-off lies in the
//! future, bad arguments); 2 the export could not be written.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Args, Subcommand};
use trial::Trial;
use trial::export::ExportSummary;

use crate::DataArgs;

/// `her2ex export …`
#[derive(Subcommand)]
pub enum ExportCommand {
    /// Write the casebook as one CDISC ODM 1.3.2 snapshot (metadata, users and sites,
    /// every participant's current data with its audit record, signatures and queries).
    Odm {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        export: ExportArgs,
        /// The file to write (written beside as `FILE.partial`, renamed when complete).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the SDTM-like datasets DM, AE, TU, TR, RS, EC, DV (one CSV each) and
    /// `define.csv`, the data dictionary, into a directory.
    Sdtm {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        export: ExportArgs,
        /// The directory to write into (created when missing).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Who exports, as of when.
#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    /// The account the export is taken for (a data manager or statistician); the audit
    /// trail names it.
    #[arg(long = "as", env = "HER2EX_EXPORT_USER", value_name = "USERNAME")]
    pub user: String,
    /// Data cut-off: only events recorded at or before this moment (RFC 3339, e.g.
    /// `2026-06-30T23:59:59Z`; a date alone means the end of that day, UTC). Default: now.
    #[arg(long, value_name = "DATE-TIME")]
    pub as_of: Option<String>,
}

/// Runs `her2ex export …`.
pub async fn run(c: ExportCommand) -> anyhow::Result<u8> {
    let (data, args) = match &c {
        ExportCommand::Odm { data, export, .. } | ExportCommand::Sdtm { data, export, .. } => {
            (data, export)
        }
    };
    let as_of = match args.as_of.as_deref().map(parse_as_of).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(1);
        }
    };
    let trial = Trial::new(data.open().await?);
    let result = match &c {
        ExportCommand::Odm { out, .. } => odm(&trial, &args.user, as_of, out).await,
        ExportCommand::Sdtm { out, .. } => sdtm(&trial, &args.user, as_of, out).await,
    };
    match result {
        Ok(summary) => {
            report(&summary);
            Ok(0)
        }
        Err(Failure::Trial(e)) => {
            eprintln!("{}", e.explain());
            Ok(crate::exit_code(&e))
        }
        Err(Failure::Io(e)) => Err(e),
    }
}

/// Why an export did not happen: the trial said no (or failed), or the file system did.
enum Failure {
    Trial(trial::Error),
    Io(anyhow::Error),
}

impl From<trial::Error> for Failure {
    fn from(e: trial::Error) -> Self {
        Failure::Trial(e)
    }
}

/// Prints progress every 500 participants.
fn progress(kind: &'static str) -> impl FnMut(usize) {
    move |n| {
        if n % 500 == 0 {
            eprintln!("{kind}: {n} participants written…");
        }
    }
}

async fn odm(
    trial: &Trial,
    username: &str,
    as_of: Option<DateTime<Utc>>,
    out: &Path,
) -> Result<ExportSummary, Failure> {
    let user = trial.account_user(username).await?;
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))
        .map_err(Failure::Io)?;
    let w = std::io::BufWriter::new(file);
    let destination = out.display().to_string();
    let written = trial
        .export_odm(&user, as_of, w, &destination, progress("ODM"))
        .await;
    let summary = match written {
        Ok((_, summary)) => summary,
        Err(e) => {
            // A half-written file must not be mistaken for an export.
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving {} to {}", partial.display(), out.display()))
        .map_err(Failure::Io)?;
    Ok(summary)
}

async fn sdtm(
    trial: &Trial,
    username: &str,
    as_of: Option<DateTime<Utc>>,
    out: &Path,
) -> Result<ExportSummary, Failure> {
    let user = trial.account_user(username).await?;
    Ok(trial
        .export_sdtm(&user, as_of, out, progress("SDTM"))
        .await?)
}

/// The summary on stdout: what was written, and what it rests on.
fn report(s: &ExportSummary) {
    println!(
        "exported {} participants ({} data) as of {} (audit log up to event {}, chain head {})",
        s.participants,
        s.data,
        s.cut
            .as_of
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        s.cut.head_seq,
        s.cut.head_hash
    );
    for f in &s.files {
        println!("  {}", f.display());
    }
}

/// Parses a cut-off: RFC 3339, a date-time without zone (UTC), or a date (end of day UTC).
pub(crate) fn parse_as_of(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let end = d
            .and_hms_micro_opt(23, 59, 59, 999_999)
            .context("end of day")?;
        return Ok(end.and_utc());
    }
    anyhow::bail!("--as-of {s:?} is not a date-time (use e.g. 2026-06-30T23:59:59Z or 2026-06-30)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_alone_is_the_end_of_that_day() {
        let t = parse_as_of("2026-06-30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-30T23:59:59.999999+00:00");
        let t = parse_as_of("2026-06-30T12:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-30T10:00:00+00:00");
        assert!(parse_as_of("30/06/2026").is_err());
    }
}
