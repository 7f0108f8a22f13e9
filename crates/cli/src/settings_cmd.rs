//! `her2ex settings …`: the versioned protocol settings (PROTOCOL.md §14). A change is an
//! amendment: an audited event with its reason, and every later decision records the
//! version it used.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use trial::{Actor, Trial};

use crate::DataArgs;

/// `her2ex settings …`
#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print the settings in force as JSON (the protocol defaults until changed); the
    /// settings version and the protocol version they belong to go to standard error.
    Show {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Put new settings in force from a JSON file (edit the output of `show`; the version
    /// must be the current one plus one).
    Set {
        #[command(flatten)]
        data: DataArgs,
        /// JSON file with the complete new settings.
        file: PathBuf,
        /// Why (e.g. the protocol amendment); recorded in the audit trail.
        #[arg(long)]
        reason: String,
    },
}

/// `settings version 2 in force (protocol: …)`.
fn in_force(s: &protocol::Settings) -> String {
    format!(
        "settings version {} in force (protocol: {})",
        s.version, s.protocol_version
    )
}

/// Runs `her2ex settings …`; a refused change exits 1 naming the rule.
pub async fn run(c: SettingsCommand) -> anyhow::Result<u8> {
    match c {
        SettingsCommand::Show { data } => {
            let store = data.open().await?;
            let settings = Trial::new(store)
                .settings()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.explain()))?;
            // stdout stays the JSON to edit for `set`; the summary goes beside it.
            eprintln!("{}", in_force(&settings));
            println!("{}", serde_json::to_string_pretty(&settings)?);
            Ok(0)
        }
        SettingsCommand::Set { data, file, reason } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let new: protocol::Settings = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a settings value", file.display()))?;
            let store = data.open().await?;
            let summary = in_force(&new);
            let trial = Trial::new(store);
            match trial
                .change_settings(&Actor::command_line(), new, &reason)
                .await
            {
                Ok(()) => {
                    println!("{summary}");
                    Ok(0)
                }
                Err(e) => {
                    println!("{}", e.explain());
                    Ok(crate::exit_code(&e))
                }
            }
        }
    }
}
