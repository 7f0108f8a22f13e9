//! `her2ex pet …` subcommands.

/// Arguments of `her2ex pet`.
#[derive(clap::Args)]
pub struct PetArgs {}

/// Runs `her2ex pet`; returns the process exit code.
pub fn run(_args: PetArgs) -> anyhow::Result<u8> {
    anyhow::bail!("her2ex pet is not built yet")
}
