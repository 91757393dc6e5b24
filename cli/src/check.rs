//! `reachguard check`: evaluate a snapshot file offline, print the findings, and exit 0 (nothing
//! at or above `--fail-on`), 1 (such findings) or 2 (bad input).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use reachguard_shared::evaluate::{Report, evaluate_with};
use reachguard_shared::model::Topology;
use reachguard_shared::rule_id::RuleId;
use reachguard_shared::rule_id::Severity;
use reachguard_shared::snapshot::Snapshot;

use crate::render;
use crate::settings::SettingsArgs;

/// The bundled example `check` evaluates when no file is given.
const BUNDLED_NAME: &str = "examples/broken-vpc.json";
const BUNDLED: &str = include_str!("../../examples/broken-vpc.json");

/// Output format.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// For people: grouped by service, with the why and the fix.
    Text,
    /// The findings JSON (`reachguard schema findings`).
    Json,
    /// An array of AWS Security Finding Format objects, as Security Hub imports them.
    Asff,
}

/// Options shared by every command that prints a report.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Only report these rules (repeatable).
    #[arg(long = "rule", value_name = "ID", value_parser = parse_rule)]
    pub rules: Vec<RuleId>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
}

fn parse_rule(text: &str) -> Result<RuleId, String> {
    text.parse()
}

/// Reads `--fail-on`.
pub fn parse_severity(text: &str) -> Result<Severity, String> {
    text.parse()
}

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (see `reachguard schema snapshot`; `-` for stdin). Default: the bundled
    /// example examples/broken-vpc.json.
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Runs `check`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = args.settings.settings()?;
    let (_, topology) = load(args.snapshot.as_deref())?;
    let (report, _suppressed) = evaluate_with(&topology, settings);
    print(report, &args.report)
}

/// Reads a snapshot file (`-`: stdin; none: the bundled example) and returns its name for
/// messages with the document.
pub fn read_snapshot(path: Option<&Path>) -> anyhow::Result<(String, Snapshot)> {
    let (name, text) = match path {
        None => {
            eprintln!("reachguard: no snapshot given, evaluating the bundled {BUNDLED_NAME}");
            (BUNDLED_NAME.to_string(), BUNDLED.to_string())
        }
        Some(path) if path.as_os_str() == "-" => {
            let text = std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?;
            ("<stdin>".to_string(), text)
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read snapshot {}", path.display()))?;
            (path.display().to_string(), text)
        }
    };
    let snapshot = Snapshot::from_json(&text).with_context(|| {
        format!("{name} is not a valid snapshot (see the README's \"Snapshot file\" section)")
    })?;
    Ok((name, snapshot))
}

/// A printed report's result: a reader that stopped early (`| head`) is not an error.
pub fn printed(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

/// Exit 1 when the worst finding is at least `fail_on`, else 0.
pub fn exit_code(worst: Option<Severity>, fail_on: Severity) -> ExitCode {
    if worst.is_some_and(|w| w.at_least(fail_on)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads and validates a snapshot file (`-`: stdin; `None`: the bundled example), returning the
/// name to show for it and its topology.
pub fn load(path: Option<&Path>) -> anyhow::Result<(String, Topology)> {
    let (name, snapshot) = read_snapshot(path)?;
    let topology = Topology::from_snapshot(&snapshot)
        .with_context(|| format!("{name} is not a valid snapshot"))?;
    Ok((name, topology))
}

/// Filters, prints and maps a report to the exit code.
pub fn print(mut report: Report, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    report.retain_rules(&args.rules);
    printed(match args.format {
        Format::Text => render::text(&report),
        Format::Json => render::json(&report),
        Format::Asff => {
            let findings = render::asff_findings(&report)?;
            render::asff(&findings)
        }
    })?;
    Ok(exit_code(report.worst(), args.fail_on))
}
