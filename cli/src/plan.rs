//! `reachguard plan`: a Terraform JSON plan (`terraform show -json PLANFILE`) applied to a
//! snapshot, reported like `impact` — the pull-request gate. Exit codes as `impact`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reachguard_shared::whatif;

use crate::check::read_snapshot;
use crate::impact::{self, OutputArgs};

/// Arguments of `plan`.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file: the current state (`-` for stdin).
    snapshot: PathBuf,
    /// The plan as JSON: `terraform show -json tfplan > plan.json`.
    plan: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `plan`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (_, snapshot) = read_snapshot(Some(&args.snapshot))?;
    let name = args.plan.display().to_string();
    let text =
        std::fs::read_to_string(&args.plan).with_context(|| format!("cannot read plan {name}"))?;
    let edited = whatif::terraform::apply(&snapshot, &text).with_context(|| name.clone())?;
    let impact = whatif::compare(&snapshot, edited)?;
    impact::print(&impact, &args.output, &format!("Terraform plan {name}"))
}
