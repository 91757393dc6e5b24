//! The main entry point into reachguard's command line.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod event;
mod impact;
#[cfg(feature = "aws")]
mod live;
mod map;
mod plan;
mod render;
mod report;
mod rules;
mod schema;
mod settings;

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
    /// Show what the event intake makes of an event file (one JSON line per event).
    Event(event::Args),
    /// What deleting or changing resources would open and resolve (nothing is touched).
    Impact(impact::Args),
    /// What a Terraform JSON plan would open and resolve: a pull-request gate.
    Plan(plan::Args),
    /// Draw each VPC of a snapshot: AZs, subnets, endpoints, gateways and every service path.
    Map(map::Args),
    /// Write a self-contained HTML report of a snapshot: summary, maps and findings.
    Report(report::Args),
    /// Print the rule catalog (Markdown), or explain one rule.
    Rules(rules::Args),
    /// Print the EventBridge event patterns that select the trigger events.
    Patterns,
    /// Print the JSON Schema of the findings, notification or snapshot document.
    Schema(schema::Args),
    /// Evaluate an account/region live, through the AWS SDK (read-only).
    #[cfg(feature = "aws")]
    Scan(live::ScanArgs),
    /// Write the snapshot file of an account/region (what `check` reads) to stdout.
    #[cfg(feature = "aws")]
    Snapshot(live::SnapshotArgs),
    /// Apply (or, with --dry-run, show) the remediation plans of an account/region's findings.
    #[cfg(feature = "aws")]
    Remediate(live::RemediateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Event(args) => event::run(args),
        Command::Impact(args) => impact::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Map(args) => map::run(args),
        Command::Report(args) => report::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Patterns => event::run_patterns(),
        Command::Schema(args) => schema::run(args),
        #[cfg(feature = "aws")]
        Command::Scan(args) => live::scan(args),
        #[cfg(feature = "aws")]
        Command::Snapshot(args) => live::snapshot(args),
        #[cfg(feature = "aws")]
        Command::Remediate(args) => live::remediate(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("reachguard: {err:#}");
            ExitCode::from(2)
        }
    }
}
