//! Printing a report for people: findings grouped by service (VPC-wide findings by VPC), one line
//! per finding with its subject, then the why and the fix, and a summary. Colour only on a TTY
//! (`anstream` strips styles otherwise, and honours `NO_COLOR`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use std::time::{SystemTime, UNIX_EPOCH};

use reachguard_shared::asff::{AsffFinding, Observation, to_asff};
use reachguard_shared::evaluate::Report;
use reachguard_shared::finding::Finding;
use reachguard_shared::names::VariantArray;
use reachguard_shared::report;
use reachguard_shared::rule_id::Severity;

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical => AnsiColor::Red,
        Severity::High => AnsiColor::Magenta,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// Writes findings grouped by service (VPC-wide ones by VPC): one line per finding with its
/// subject, then the why and the fix.
pub fn findings(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        groups
            .entry(report::group_of(finding))
            .or_default()
            .push(finding);
    }
    for (group, findings) in &groups {
        writeln!(out, "{bold}{group}{bold:#}")?;
        for f in findings {
            let subject = report::subject_within_group(f);
            let style = severity_style(f.severity);
            writeln!(
                out,
                "  {style}{:<8}{style:#} {} {}",
                f.severity.as_str().to_uppercase(),
                f.rule,
                subject.join(" / ")
            )?;
            writeln!(out, "           {dim}why:{dim:#} {}", f.message)?;
            if f.remediation.is_empty() {
                writeln!(out, "           {dim}fix:{dim:#} manual (notify-only)")?;
            }
            for action in &f.remediation {
                writeln!(
                    out,
                    "           {dim}fix:{dim:#} {} [{}]",
                    action.describe(),
                    action.name()
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// ` (1 critical, 2 high)`, or nothing when there are no findings.
pub fn severity_counts(findings: &[Finding]) -> String {
    let counts: Vec<String> = Severity::VARIANTS
        .iter()
        .copied()
        .map(|s| (s, findings.iter().filter(|f| f.severity == s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if counts.is_empty() {
        String::new()
    } else {
        format!(" ({})", counts.join(", "))
    }
}

/// Writes the text report to stdout (warnings to stderr).
pub fn text(report: &Report) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    let bold = Style::new().bold();
    findings(&mut out, &report.findings)?;
    let s = &report.summary;
    writeln!(
        out,
        "{bold}summary:{bold:#} {} services, {} subnets: {} findings{}, {} suppressed",
        s.services,
        s.subnets,
        s.findings,
        severity_counts(&report.findings),
        s.suppressed
    )?;
    out.flush()?;
    warnings(&report.warnings)
}

/// Writes warnings to stderr.
pub fn warnings(warnings: &[String]) -> io::Result<()> {
    let mut err = anstream::stderr().lock();
    for warning in warnings {
        writeln!(err, "warning: {warning}")?;
    }
    Ok(())
}

/// Writes the findings JSON to stdout.
pub fn json(report: &Report) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)
}

/// The report's findings in ASFF, each observed now (the CLI keeps no state: every finding is
/// open). Fails, naming the finding and the fix, when one cannot be an ASFF finding (a snapshot
/// without `AccountId`).
pub fn asff_findings(report: &Report) -> anyhow::Result<Vec<AsffFinding>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let observation = Observation::open_now(now);
    report
        .findings
        .iter()
        .map(|finding| to_asff(finding, &observation))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::from)
}

/// Writes findings as one JSON array of ASFF objects.
pub fn asff(findings: &[AsffFinding]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, findings)?;
    writeln!(out)
}
