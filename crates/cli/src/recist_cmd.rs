//! `her2ex recist …`: the RECIST 1.1 calculator for readers and statisticians.
//!
//! `her2ex recist evaluate FILE.json [--json]` reads a case in the format of
//! `docs/recist-format.md` (`-` reads standard input) and prints the response at every
//! assessment and the best overall response. Exit codes: 0 evaluated, 1 the input breaks
//! RECIST rules (the errors are printed), 2 the input cannot be read.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use protocol::recist::{Case, Evaluation, InputError, RuleError, evaluate_text, evaluation_output};

/// Arguments of `her2ex recist`.
#[derive(clap::Args)]
pub struct RecistArgs {
    #[command(subcommand)]
    command: RecistCommand,
}

#[derive(clap::Subcommand)]
enum RecistCommand {
    /// Evaluate a case: response at every assessment and best overall response.
    Evaluate(EvaluateArgs),
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// Case file (JSON, see docs/recist-format.md); `-` reads standard input.
    file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `her2ex recist`; returns the process exit code.
pub fn run(args: RecistArgs) -> anyhow::Result<u8> {
    match args.command {
        RecistCommand::Evaluate(a) => evaluate(&a),
    }
}

fn read_input(file: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(text)
}

fn evaluate(args: &EvaluateArgs) -> anyhow::Result<u8> {
    let result = read_input(&args.file)
        .map_err(|e| InputError::Unreadable(format!("{e:#}")))
        .and_then(|text| evaluate_text(&text));
    match result {
        Ok((case, evaluation)) => {
            let text = if args.json {
                let output = evaluation_output(&case, &evaluation);
                serde_json::to_string_pretty(&output)? + "\n"
            } else {
                table(&case, &evaluation)
            };
            emit(&text)?;
            Ok(0)
        }
        Err(InputError::Rules(errors)) => {
            report_errors(&errors, args.json, "the case breaks RECIST 1.1 rules")?;
            Ok(1)
        }
        Err(InputError::Unreadable(message)) => {
            let errors = [RuleError::new("", message)];
            report_errors(&errors, args.json, "unreadable input")?;
            Ok(2)
        }
    }
}

/// Writes to standard output; a reader that stopped reading (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing standard output")
        }
        _ => Ok(()),
    }
}

/// `{"errors": [{"path", "message"}, …]}`, fields in this order.
#[derive(serde::Serialize)]
struct ErrorsOutput<'a> {
    errors: &'a [RuleError],
}

fn report_errors(errors: &[RuleError], json: bool, heading: &str) -> anyhow::Result<()> {
    if json {
        emit(&(serde_json::to_string_pretty(&ErrorsOutput { errors })? + "\n"))
    } else {
        let mut text = format!("error: {heading}:\n");
        for e in errors {
            let _ = writeln!(text, "  {e}");
        }
        // Standard error is for people; if it is closed there is no one to tell.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        Ok(())
    }
}

fn number(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// The evaluation as a plain-text table.
fn table(case: &Case, evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let b = &case.baseline;
    let _ = writeln!(
        out,
        "RECIST 1.1: treatment start {}, baseline {} (sum of diameters {:.1} mm)\n",
        case.treatment_start,
        b.date(),
        b.sum().mm()
    );
    out.push_str(
        "date         sum mm   Δbase %   Δnadir %  target  non-target     new        overall\n",
    );
    for p in &evaluation.time_points {
        let line = match &p.measured {
            Some(m) => format!(
                "{:<10}  {:>7}  {:>8}  {:>9}  {:<6}  {:<13}  {:<9}  {}",
                p.date,
                number(m.sum.map(|s| s.mm())),
                number(m.change_from_baseline_pct),
                number(m.change_from_nadir_pct),
                m.target.map_or("NA", |t| t.code()),
                m.non_target.map_or("NA", |t| t.code()),
                m.new_lesions.code(),
                p.overall
            ),
            None => format!(
                "{:<10}  {:>7}  {:>8}  {:>9}  {:<6}  {:<13}  {:<9}  {} (reported)",
                p.date, "-", "-", "-", "-", "-", "-", p.overall
            ),
        };
        let _ = writeln!(out, "{line}");
        for note in &p.notes {
            let _ = writeln!(out, "{:<10}  note: {note}", "");
        }
    }
    let rules = &case.settings.best;
    let best = &evaluation.best;
    let _ = writeln!(
        out,
        "\nBest overall response: {}{}",
        best.response,
        best.date.map_or_else(String::new, |d| format!(" ({d})"))
    );
    let confirmation = if rules.confirmation {
        format!(
            "CR/PR confirmed after at least {} days",
            rules.confirm_min_days
        )
    } else {
        "no confirmation".to_owned()
    };
    let _ = writeln!(
        out,
        "Rules: {confirmation}; SD at least {} days after treatment start",
        rules.sd_min_days
    );
    for w in &evaluation.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
