//! `reachguard map`: draw each VPC of a snapshot (AZs, subnets, route tables, endpoints, NAT and
//! internet gateways, and every service's path to each dependency, coloured by verdict) as SVG,
//! Graphviz DOT or Mermaid. Exit 0 when drawn, 2 on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use reachguard_shared::evaluate::{Report, evaluate};
use reachguard_shared::evaluation::Evaluation;
use reachguard_shared::map::{self, VpcMap};
use reachguard_shared::model::Topology;

use crate::check;

/// Map format.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A picture, drawn by reachguard (no Graphviz or browser needed).
    Svg,
    /// Graphviz DOT text, for `dot -Tsvg`.
    Dot,
    /// A Mermaid flowchart, for Markdown and GitHub comments.
    Mermaid,
}

/// Arguments of `map`.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (see `reachguard schema snapshot`; `-` for stdin).
    snapshot: PathBuf,
    /// Only this VPC (default: every VPC, one below the other).
    #[arg(long, value_name = "ID")]
    vpc: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "svg")]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `map`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (name, topology) = check::load(Some(&args.snapshot))?;
    let (_, mut maps) = evaluate_and_map(&topology);
    if let Some(vpc) = &args.vpc {
        maps.retain(|m| &m.vpc == vpc);
        if maps.is_empty() {
            let known: Vec<&str> = topology.vpcs.iter().map(|v| v.id.as_str()).collect();
            anyhow::bail!("{name} has no VPC {vpc}; pass one of: {}", known.join(", "));
        }
    }
    let text = match args.format {
        Format::Svg => map::svg::render(&maps),
        Format::Dot => map::dot::render(&maps),
        Format::Mermaid => map::mermaid::render(&maps),
    };
    write_output(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates a topology and builds the map of each of its VPCs.
pub fn evaluate_and_map(topology: &Topology) -> (Report, Vec<VpcMap>) {
    let report = evaluate(topology);
    let maps = map::build(&Evaluation::new(topology), &report);
    (report, maps)
}

/// Writes `text` to `output`, or to stdout when `None` (a closed pipe is not an error).
pub fn write_output(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to stdout"),
            }
        }
    }
}
