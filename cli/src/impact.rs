//! `reachguard impact`: the findings deleting or changing resources would open and resolve,
//! without touching anything; and the printing that `reachguard plan` shares. Exit 0 (nothing at
//! or above `--fail-on` would open), 1 (something would) or 2 (bad input, e.g. an unknown id).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::Style;
use reachguard_shared::finding::Finding;
use reachguard_shared::rule_id::{Field, Severity};
use reachguard_shared::whatif::{self, Impact, change::Change};

use crate::check::{exit_code, parse_severity, printed, read_snapshot};
use crate::render;

/// Output format of `impact` and `plan`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// For people: what would open and resolve, grouped by service, with the why and the fix.
    Text,
    /// One object: `opened`, `resolved` (findings as `check --format json` prints them),
    /// `not_evaluated`, `applied`, `summary`.
    Json,
    /// A pull-request comment.
    Markdown,
}

/// Options of every command that prints an impact.
#[derive(clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a finding at least this severe would open.
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
}

/// Arguments of `impact`.
#[derive(clap::Args)]
#[command(
    after_help = "RESOURCE-ID: vpce-…, nat-…, igw-…, rtb-…, a route rtb-…:0.0.0.0/0 (or \
:pl-…), subnet-…, sg-…, an ingress permission sg-…:ingress:N (0-based), acl-…, an ACL entry \
acl-…:ingress:RULE or acl-…:egress:RULE, an ECS service (ARN or name).

--change RESOURCE:KEY=VALUE:
  vpce-…:private-dns=on|off           vpce-…:security-groups=sg-a,sg-b
  vpce-…:subnets=subnet-a,subnet-b    vpce-…:route-tables=rtb-a,rtb-b
  vpc-…:dns-support=on|off            vpc-…:dns-hostnames=on|off
  rtb-…:0.0.0.0/0:target=nat-…        (igw-…, vpce-…, tgw-…, pcx-…, eni-…)
  subnet-…:route-table=rtb-…          subnet-…:network-acl=acl-…
  SERVICE:subnets=subnet-a,…          SERVICE:security-groups=sg-a,…"
)]
pub struct Args {
    /// Snapshot file (`-` for stdin).
    snapshot: PathBuf,
    /// Resources to delete (see below).
    #[arg(value_name = "RESOURCE-ID")]
    resources: Vec<String>,
    /// A modification, RESOURCE:KEY=VALUE (repeatable; see below).
    #[arg(long = "change", value_name = "RESOURCE:KEY=VALUE")]
    changes: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `impact`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.resources.is_empty() && args.changes.is_empty() {
        anyhow::bail!("name at least one RESOURCE-ID or --change RESOURCE:KEY=VALUE");
    }
    let (_, snapshot) = read_snapshot(Some(&args.snapshot))?;
    let mut changes: Vec<Change> = args.resources.into_iter().map(Change::Delete).collect();
    for text in &args.changes {
        changes.push(text.parse()?);
    }
    let edited = whatif::change::apply(&snapshot, &changes)?;
    let title = changes
        .iter()
        .map(Change::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    print(&whatif::compare(&snapshot, edited)?, &args.output, &title)
}

/// Prints an impact and maps it to the exit code.
pub fn print(impact: &Impact, args: &OutputArgs, title: &str) -> anyhow::Result<ExitCode> {
    printed(match args.format {
        Format::Text => text(impact),
        Format::Json => json(impact),
        Format::Markdown => markdown(impact, title),
    })?;
    Ok(exit_code(impact.worst_opened(), args.fail_on))
}

fn json(impact: &Impact) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, impact)?;
    writeln!(out)
}

fn text(impact: &Impact) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    let bold = Style::new().bold();
    for (heading, findings) in [
        ("would open", &impact.opened),
        ("would resolve", &impact.resolved),
    ] {
        writeln!(
            out,
            "{bold}{heading}: {}{}{bold:#}",
            findings.len(),
            render::severity_counts(findings)
        )?;
        render::findings(&mut out, findings)?;
    }
    if !impact.not_evaluated.is_empty() {
        writeln!(
            out,
            "{bold}not evaluated: {}{bold:#}",
            impact.not_evaluated.len()
        )?;
        for skipped in &impact.not_evaluated {
            writeln!(out, "  {}: {}", skipped.resource, skipped.reason)?;
        }
        writeln!(out)?;
    }
    let s = &impact.summary;
    writeln!(
        out,
        "{bold}summary:{bold:#} {} changes applied, {} not evaluated: opens {}{}, resolves {}; findings {} → {}",
        s.applied,
        s.not_evaluated,
        s.opened,
        render::severity_counts(&impact.opened),
        s.resolved,
        s.findings_before,
        s.findings_after
    )?;
    out.flush()?;
    render::warnings(&impact.warnings)
}

/// Markdown text outside code spans: placeholder ids such as `vpce-<aws_vpc_endpoint.x>` must
/// not read as HTML tags.
fn escape(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

/// A Markdown table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    escape(text).replace('|', "\\|").replace('\n', " ")
}

fn markdown_findings(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let mut groups: std::collections::BTreeMap<String, Vec<&Finding>> = Default::default();
    for finding in findings {
        groups
            .entry(reachguard_shared::report::group_of(finding))
            .or_default()
            .push(finding);
    }
    for (group, findings) in groups {
        writeln!(out, "**{}**\n", escape(&group))?;
        for f in findings {
            let subject: Vec<&str> = f
                .subject()
                .into_iter()
                .filter(|(field, _)| *field != Field::Service)
                .map(|(_, value)| value)
                .collect();
            writeln!(
                out,
                "- **{}** `{}` {}: {}",
                f.severity.as_str().to_uppercase(),
                f.rule,
                escape(&subject.join(" / ")),
                escape(&f.message)
            )?;
            if f.remediation.is_empty() {
                writeln!(out, "  - fix: manual")?;
            }
            for action in &f.remediation {
                writeln!(
                    out,
                    "  - fix: {} (`{}`)",
                    escape(&action.describe()),
                    action.name()
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The pull-request comment: what would break per service with the fix, what would be
/// resolved, and (folded) what was not evaluated and what was applied.
fn markdown(impact: &Impact, title: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let s = &impact.summary;
    writeln!(
        out,
        "<!-- reachguard-impact -->\n### reachguard: {}\n",
        cell(title)
    )?;
    writeln!(
        out,
        "**{} findings would open**{}, {} would be resolved ({} changes applied, {} not evaluated; findings {} → {}).\n",
        s.opened,
        render::severity_counts(&impact.opened),
        s.resolved,
        s.applied,
        s.not_evaluated,
        s.findings_before,
        s.findings_after
    )?;
    writeln!(out, "#### Would break\n")?;
    if impact.opened.is_empty() {
        writeln!(out, "Nothing.\n")?;
    }
    markdown_findings(&mut out, &impact.opened)?;
    writeln!(out, "#### Would be resolved\n")?;
    if impact.resolved.is_empty() {
        writeln!(out, "Nothing.\n")?;
    }
    markdown_findings(&mut out, &impact.resolved)?;
    if !impact.not_evaluated.is_empty() {
        writeln!(
            out,
            "<details><summary>Not evaluated ({})</summary>\n\n| resource | reason |\n| --- | --- |",
            impact.not_evaluated.len()
        )?;
        for skipped in &impact.not_evaluated {
            writeln!(
                out,
                "| `{}` | {} |",
                cell(&skipped.resource),
                cell(&skipped.reason)
            )?;
        }
        writeln!(out, "\n</details>\n")?;
    }
    if !impact.applied.is_empty() {
        writeln!(
            out,
            "<details><summary>Applied ({})</summary>\n",
            impact.applied.len()
        )?;
        for applied in &impact.applied {
            writeln!(out, "- `{applied}`")?;
        }
        writeln!(out, "\n</details>")?;
    }
    Ok(())
}
