//! `her2ex audit verify`: walks the hash chain of the whole log.

use clap::Subcommand;

use crate::DataArgs;

/// `her2ex audit …`
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every event's hash; name the first event that does not verify.
    /// Exit code 0 when the chain is intact, 1 when it is not.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Runs `her2ex audit …`.
pub async fn run(c: AuditCommand) -> anyhow::Result<u8> {
    match c {
        AuditCommand::Verify { data } => {
            let store = data.open().await?;
            let report = store.verify_chain().await?;
            match report.first_bad {
                None => {
                    println!(
                        "audit trail intact: {} events verified, head hash {}",
                        report.events_checked, report.head_hash
                    );
                    Ok(0)
                }
                Some(bad) => {
                    println!(
                        "AUDIT TRAIL BROKEN at event #{} ({} version {}): {}",
                        bad.seq, bad.stream, bad.version, bad.reason
                    );
                    Ok(1)
                }
            }
        }
    }
}
