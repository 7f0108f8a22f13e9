//! `her2ex audit …`: checks the audit trail, and signs and exports its checkpoints.
//!
//! `audit verify` checks, and reports every failure of:
//! 1. the hash chain (every event re-hashed, every link, the chain head);
//! 2. every stored signed checkpoint: signed by the study's key, and the log still holds
//!    the signed hash at its seq (a log rewritten with recomputed hashes does not);
//! 3. with `--against FILE`, a signed head exported earlier: its signature verifies with
//!    the key in the file, that key is the study's, and the log holds that exact hash at
//!    that seq;
//! 4. the read tables rebuilt from the log: every participant row that differs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use store::Store;
use store::checkpoint::{CheckpointKey, PublicKey, SignedHead};

use crate::DataArgs;

/// `her2ex audit …`
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every event's hash, check every signed checkpoint and rebuild the read
    /// tables from the log. Exit code 0 when everything holds, 1 when anything does not.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// A signed head exported earlier (`audit checkpoint --export`): prove the
        /// database still holds that exact history.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Sign a checkpoint of the audit trail now (needs the key file), and optionally
    /// export the latest signed head for the sponsor to keep.
    Checkpoint {
        #[command(flatten)]
        data: DataArgs,
        /// Write the signed head (JSON: seq, hash, time, public key, signature) here.
        #[arg(long)]
        export: Option<PathBuf>,
    },
}

/// Runs `her2ex audit …`.
pub async fn run(c: AuditCommand) -> anyhow::Result<u8> {
    match c {
        AuditCommand::Verify { data, against } => verify(&data, against.as_deref()).await,
        AuditCommand::Checkpoint { data, export } => checkpoint(&data, export.as_deref()).await,
    }
}

/// `her2ex audit checkpoint`
async fn checkpoint(data: &DataArgs, export: Option<&Path>) -> anyhow::Result<u8> {
    let key_path = data.key_path();
    let key = CheckpointKey::load_file(&key_path).with_context(|| {
        format!(
            "signing needs the checkpoint key {} (created by `her2ex init`)",
            key_path.display()
        )
    })?;
    let store = data.open().await?;
    let signed = store.checkpoint(&key, chrono::Utc::now()).await?;
    println!(
        "checkpoint signed at seq {} (hash {}) by key {}",
        signed.seq, signed.hash, signed.key_id
    );
    if let Some(path) = export {
        let head = signed.export(&key.public());
        write_signed_head(path, &head)?;
        println!("signed head written to {}", path.display());
    }
    Ok(0)
}

/// Writes a signed head as pretty JSON.
pub fn write_signed_head(path: &Path, head: &SignedHead) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(head)?;
    std::fs::write(path, format!("{text}\n"))
        .with_context(|| format!("writing the signed head to {}", path.display()))
}

/// Reads a signed head written by [`write_signed_head`].
pub fn read_signed_head(path: &Path) -> anyhow::Result<SignedHead> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the signed head {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a signed head", path.display()))
}

/// `her2ex audit verify`
async fn verify(data: &DataArgs, against: Option<&Path>) -> anyhow::Result<u8> {
    let store = data.open().await?;
    let study_key = data.public_key()?;
    let head = against.map(read_signed_head).transpose()?;
    let mut problems = check_log(&store, study_key.as_ref(), head.as_ref()).await?;
    let trial = trial::Trial::new(store);
    problems.extend(read_table_differences(&trial).await?);
    if problems.is_empty() {
        println!("audit trail intact");
        Ok(0)
    } else {
        for p in &problems {
            println!("AUDIT TRAIL BROKEN: {p}");
        }
        Ok(1)
    }
}

/// Checks the chain, the stored checkpoints (with `study_key`) and, if given, a signed
/// head kept outside the database; prints what held and returns every failure.
pub async fn check_log(
    store: &Store,
    study_key: Option<&PublicKey>,
    against: Option<&SignedHead>,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let report = store.verify_chain().await?;
    match &report.first_bad {
        None => println!(
            "hash chain intact: {} events verified, head hash {}",
            report.events_checked, report.head_hash
        ),
        Some(bad) => problems.push(format!(
            "event #{} ({} version {}): {}",
            bad.seq, bad.stream, bad.version, bad.reason
        )),
    }
    // The sponsor's file names the key to trust when there is no key of our own.
    let against_key = against.map(SignedHead::key).transpose()?;
    match study_key.or(against_key.as_ref()) {
        Some(key) => {
            let checked = store.verify_checkpoints(key).await?;
            problems.extend(checked.problems.iter().cloned());
            match &checked.latest {
                Some(latest) => println!(
                    "{} signed checkpoints verified with key {}; latest at seq {} of {}",
                    checked.checked,
                    key.key_id(),
                    latest.seq,
                    report.events_checked
                ),
                None if checked.checked == 0 => {
                    println!("no signed checkpoints yet: the log is not anchored")
                }
                None => {}
            }
        }
        None => {
            if store.latest_checkpoint().await?.is_some() {
                problems.push(
                    "the database holds signed checkpoints but no public key was found to \
                     check them with (give --key-file or --against)"
                        .to_owned(),
                );
            } else {
                println!("no checkpoint key and no signed checkpoints: the log is not anchored");
            }
        }
    }
    if let Some(head) = against {
        problems.extend(check_against(store, head, study_key).await?);
    }
    Ok(problems)
}

/// Checks a signed head exported earlier against the database.
async fn check_against(
    store: &Store,
    head: &SignedHead,
    study_key: Option<&PublicKey>,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    if let Err(why) = head.verify() {
        problems.push(why);
        return Ok(problems);
    }
    let key = head.key()?;
    if let Some(study) = study_key
        && *study != key
    {
        problems.push(format!(
            "the signed head was signed by key {}, not by this study's key {}",
            key.key_id(),
            study.key_id()
        ));
    }
    match store.hash_at(head.seq).await? {
        Some(hash) if hash == head.hash => println!(
            "the log holds the signed head: seq {} hash {} (signed {})",
            head.seq, head.hash, head.signed_at
        ),
        Some(hash) => problems.push(format!(
            "the signed head says hash {} at seq {}, but the log's hash there is {}: the \
             history up to it was rewritten",
            head.hash, head.seq, hash
        )),
        None => problems.push(format!(
            "the signed head covers seq {}, but the log has no event {}: events were removed",
            head.seq, head.seq
        )),
    }
    Ok(problems)
}

/// Every read row that differs from the log it is derived from. The participants table
/// is rebuilt here; each read table that grows a rebuild joins this list.
async fn read_table_differences(trial: &trial::Trial) -> anyhow::Result<Vec<String>> {
    let participants = trial
        .participants_differing_from_log()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.explain()))?;
    if participants.is_empty() {
        println!("participants table matches the log");
    }
    let users = trial
        .users_differing_from_log()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.explain()))?;
    if users.is_empty() {
        println!("users table matches the log");
    }
    Ok(participants
        .iter()
        .map(|d| d.to_string())
        .chain(users.iter().map(|u| format!("users table: {u}")))
        .collect())
}
