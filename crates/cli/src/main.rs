//! `her2ex`: the command-line entry point of the HER2-Ex PET trial system.

mod pet_cmd;
mod recist_cmd;

use clap::{Parser, Subcommand};

/// The HER2-Ex PET trial: web application, DICOM receiver, PET quantification,
/// protocol rules, reports and exports.
#[derive(Parser)]
#[command(name = "her2ex", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// PET imaging: inspect, quantify, make phantoms.
    Pet(pet_cmd::PetArgs),
    /// RECIST 1.1 calculator for readers and statisticians.
    Recist(recist_cmd::RecistArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pet(args) => pet_cmd::run(args),
        Command::Recist(args) => recist_cmd::run(args),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
