//! The main entry point into reachguard's command line.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;

/// reachguard: can your ECS services reach the AWS services they depend on?
#[derive(Parser)]
#[command(name = "reachguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a snapshot file offline.
    Check(check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("reachguard: {err:#}");
            ExitCode::from(2)
        }
    }
}
