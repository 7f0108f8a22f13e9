//! `her2ex recist …` subcommands.

/// Arguments of `her2ex recist`.
#[derive(clap::Args)]
pub struct RecistArgs {}

/// Runs `her2ex recist`; returns the process exit code.
pub fn run(_args: RecistArgs) -> anyhow::Result<u8> {
    anyhow::bail!("her2ex recist is not built yet")
}
