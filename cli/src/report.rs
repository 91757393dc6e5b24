//! `reachguard report`: one self-contained HTML file with the summary, each VPC's map and the
//! findings (filterable by severity and rule). Exit 0 when written, 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reachguard_shared::model::Topology;
use reachguard_shared::report::{self, Source};

use crate::check;
use crate::map::{evaluate_and_map, write_output};

/// Arguments of `report`.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (see `reachguard schema snapshot`; `-` for stdin).
    snapshot: PathBuf,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (name, topology) = check::load(Some(&args.snapshot))?;
    write(&topology, &name, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates `topology` and writes its HTML report to `output` (stdout when `None`); `name` says
/// where the topology came from.
pub fn write(topology: &Topology, name: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let (findings, maps) = evaluate_and_map(topology);
    let source = Source {
        name,
        region: &topology.region,
        account: topology.account.as_deref(),
    };
    write_output(output, &report::html(source, &findings, &maps))
}
