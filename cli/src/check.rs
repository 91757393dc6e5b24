//! `reachguard check`: evaluate a snapshot file offline.
use std::{path::PathBuf, process::ExitCode};

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (see INTERFACES.md).
    snapshot: Option<PathBuf>,
}

/// Runs `check`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
