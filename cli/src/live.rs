//! `reachguard scan`, `snapshot` and `remediate`: the live commands, through the AWS SDK and the
//! default credential chain (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …). `scan` and
//! `snapshot` only read; `remediate --apply` is the one command that changes anything.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reachguard_pipeline::scan::remediate as remediate_scope;
use reachguard_shared::action::ActionName;
use reachguard_shared::aws::{
    ClientSettings, Collection, Collector, MetricsDays, Remediator, Scope, vpc_scope,
};
use reachguard_shared::evaluate::evaluate_with;
use reachguard_shared::model::Topology;
use reachguard_shared::remediation::{Mode, RemediationPolicy};
use reachguard_shared::rule_id::Severity;

use crate::check::{self, ReportArgs};
use crate::report;
use crate::settings::SettingsArgs;

/// Where to look.
#[derive(clap::Args)]
pub struct AccountScope {
    /// Region (default: the SDK's chain: `AWS_REGION`, the profile, …).
    #[arg(long)]
    region: Option<String>,
    /// Only these VPCs (repeatable; default: the whole account/region).
    #[arg(long = "vpc", value_name = "ID")]
    vpcs: Vec<String>,
    /// Days of NAT gateway metrics to read, 1 to 15 (default: `REACHGUARD_METRICS_DAYS`, else 7).
    #[arg(long, value_name = "DAYS")]
    metrics_days: Option<MetricsDays>,
}

impl AccountScope {
    fn scope(&self) -> Scope {
        if self.vpcs.is_empty() {
            Scope::account_region()
        } else {
            vpc_scope(self.vpcs.iter().cloned())
        }
    }

    /// Client settings for the target's region.
    fn settings(&self) -> ClientSettings {
        ClientSettings {
            region: self.region.clone(),
            ..ClientSettings::default()
        }
    }

    /// The metrics window: the flag, else `REACHGUARD_METRICS_DAYS`, else the default.
    fn metrics_days(&self) -> anyhow::Result<MetricsDays> {
        if let Some(days) = self.metrics_days {
            return Ok(days);
        }
        match std::env::var("REACHGUARD_METRICS_DAYS") {
            Ok(text) => text
                .parse()
                .map_err(|e| anyhow::anyhow!("REACHGUARD_METRICS_DAYS={text:?}: {e}")),
            Err(_) => Ok(MetricsDays::default()),
        }
    }

    /// Collects the target, with progress on stderr when it is a terminal.
    fn collect(&self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Collection> {
        let metrics_days = self.metrics_days()?;
        let progress = std::io::stderr().is_terminal();
        if progress {
            eprint!("reachguard: collecting {} …", self.describe());
            let _ = std::io::stderr().flush();
        }
        let collection = runtime.block_on(async {
            let config = self.settings().load().await;
            Collector::new(&config)
                .with_metrics_days(metrics_days)
                .collect(&self.scope())
                .await
        });
        if progress {
            match &collection {
                Ok(c) => eprintln!(" done ({}).", c.calls),
                Err(_) => eprintln!(" failed."),
            }
        }
        collection.with_context(|| format!("cannot collect {}", self.describe()))
    }

    fn describe(&self) -> String {
        let region = self.region.as_deref().unwrap_or("the default region");
        if self.vpcs.is_empty() {
            format!("every VPC of {region}")
        } else {
            format!("{} in {region}", self.vpcs.join(", "))
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Arguments of `scan`.
#[derive(clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    target: AccountScope,
    #[command(flatten)]
    report: ReportArgs,
    /// Also write the HTML report (summary, maps, every finding) to this file.
    #[arg(long = "report", value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Runs `scan`: collect, evaluate, print like `check` with the collection's warnings (and write
/// the HTML report if asked).
pub fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings.settings()?;
    let collection = args.target.collect(&runtime()?)?;
    let topology = Topology::from_snapshot(&collection.snapshot)
        .context("the collected resources do not form a valid snapshot")?;
    let (mut findings, _suppressed) = evaluate_with(&topology, settings);
    findings.warnings.extend(collection.warnings);
    if let Some(path) = &args.html {
        report::write(&topology, &args.target.describe(), Some(path))?;
    }
    check::print(findings, &args.report)
}

/// Arguments of `snapshot`.
#[derive(clap::Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    target: AccountScope,
}

/// Runs `snapshot`: the snapshot file on stdout.
pub fn snapshot(args: SnapshotArgs) -> anyhow::Result<ExitCode> {
    let collection = args.target.collect(&runtime()?)?;
    for warning in &collection.warnings {
        eprintln!("reachguard: warning: {warning}");
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &collection.snapshot)
        .context("cannot write the snapshot")?;
    writeln!(out).context("cannot write the snapshot")?;
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `remediate`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("how").required(true).args(["dry_run", "apply"]))]
pub struct RemediateArgs {
    /// Show the plan and what each action would do; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply the allowed, safe actions, then re-scan.
    #[arg(long)]
    apply: bool,
    #[command(flatten)]
    target: AccountScope,
    /// Allow this action (repeatable; default: the free ones).
    #[arg(long = "allow", value_name = "ACTION", value_parser = |s: &str| s.parse::<ActionName>())]
    allow: Vec<ActionName>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: check::Format,
    /// Exit 1 when a finding at least this severe remains (or an action failed).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = |s: &str| s.parse::<Severity>())]
    fail_on: Severity,
}

/// Runs `remediate`: scan, decide each planned action (a VPC's `reachguard:mode` tag may lower
/// the command's mode, never raise it), apply in `--apply` mode, re-scan, report.
pub fn remediate(args: RemediateArgs) -> anyhow::Result<ExitCode> {
    if matches!(args.format, check::Format::Asff) {
        anyhow::bail!(
            "remediate prints text or json; for ASFF, run `reachguard scan --format asff` after it"
        );
    }
    let runtime = runtime()?;
    let policy = RemediationPolicy {
        mode: if args.apply {
            Mode::Remediate
        } else {
            Mode::DryRun
        },
        ceiling: None,
        allowed: if args.allow.is_empty() {
            RemediationPolicy::default().allowed
        } else {
            args.allow.iter().copied().collect()
        },
    };
    let remediation = runtime
        .block_on(async {
            let config = args.target.settings().load().await;
            remediate_scope(
                &Collector::new(&config),
                &Remediator::new(&config),
                &args.target.scope(),
                &policy,
            )
            .await
        })
        .with_context(|| format!("cannot remediate {}", args.target.describe()))?;
    let remaining = remediation
        .after
        .as_ref()
        .unwrap_or(&remediation.before.report);
    match args.format {
        check::Format::Json => {
            let doc = serde_json::json!({
                "mode": policy.mode,
                "actions": remediation.actions,
                "before": remediation.before.report,
                "after": remediation.after,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).context("cannot write the report")?
            );
        }
        check::Format::Text | check::Format::Asff => {
            if remediation.actions.is_empty() {
                println!("nothing to remediate: no finding has a remediation plan");
            }
            for a in &remediation.actions {
                let note = a.note();
                println!(
                    "{} {} {}: {}",
                    a.vpc, note.action, note.outcome, note.detail
                );
            }
            println!(
                "{} findings before, {} {}",
                remediation.before.report.findings.len(),
                remaining.findings.len(),
                if remediation.after.is_some() {
                    "after re-scanning"
                } else {
                    "remain (nothing applied)"
                }
            );
        }
    }
    let failing =
        remediation.failed() || remaining.worst().is_some_and(|w| w.at_least(args.fail_on));
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
