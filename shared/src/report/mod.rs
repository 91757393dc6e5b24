//! The single-file HTML report (`reachguard report`, `scan --report`): a summary, each VPC's
//! [map](crate::map), and the findings grouped by service with why, path, fix and plan, filterable
//! by severity and rule. Styles and script are inline (this module's `report.css` and
//! `report.js`) and the page fetches nothing, so it works offline and as an e-mail attachment.
//! Every text is real text; the filters are native form controls; each finding links to the
//! element of the map it is drawn at. Pure: returns the document as a string.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::evaluate::Report;
use crate::finding::Finding;
use crate::map::{VpcMap, escape_xml as esc, svg};
use crate::names::VariantArray;
use crate::rule_id::Field;
use crate::rule_id::Severity;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The heading a finding is listed under: its service, else its VPC.
pub fn group_of(finding: &Finding) -> String {
    match &finding.service {
        Some(service) if finding.rule.subject().contains(&Field::Service) => {
            format!("service {service} ({})", finding.vpc)
        }
        _ => format!("{} (VPC-wide)", finding.vpc),
    }
}

/// A finding's subject values without the service, which its group heading already names.
pub fn subject_within_group(finding: &Finding) -> Vec<String> {
    finding
        .subject()
        .into_iter()
        .filter(|(field, _)| *field != Field::Service)
        .map(|(_, value)| value.to_string())
        .collect()
}

/// Where the report's data comes from, for its heading.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// What was evaluated: a snapshot file name, or `account … region …` for a live scan.
    pub name: &'a str,
    /// Region.
    pub region: &'a str,
    /// Account id, when known.
    pub account: Option<&'a str>,
}

/// The report as one self-contained HTML document. `maps` must come from the same evaluation as
/// `report` (see [`crate::map::build`]).
pub fn html(source: Source<'_>, report: &Report, maps: &[VpcMap]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let account = source.account.unwrap_or("unknown account");
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>reachguard report: {account} {region}</title>
<style>
{STYLE}</style>
</head>
<body>
<header>
<h1>reachguard report</h1>
<p class="meta">{name} · account {account} · region {region}</p>
</header>
<main>
"#,
        account = esc(account),
        region = esc(source.region),
        name = esc(source.name),
    );
    summary(&mut out, report, maps);
    out.push_str("<section id=\"maps\" aria-labelledby=\"maps-heading\">\n<h2 id=\"maps-heading\">Maps</h2>\n");
    for map in maps {
        let _ = writeln!(
            out,
            "<figure id=\"map-{id}\"><figcaption>{title}</figcaption><div class=\"map-scroll\" tabindex=\"0\" role=\"region\" aria-label=\"map of {id}\">",
            id = esc(&map.vpc),
            title = esc(&map.title())
        );
        out.push_str(&svg::render(std::slice::from_ref(map)));
        out.push_str("</div></figure>\n");
    }
    out.push_str("</section>\n");
    findings(&mut out, report, maps);
    let _ = write!(
        out,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

fn count(report: &Report, severity: Severity) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .count()
}

fn summary(out: &mut String, report: &Report, maps: &[VpcMap]) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        r#"<section id="summary" aria-labelledby="summary-heading">
<h2 id="summary-heading">Summary</h2>
<ul class="totals">
<li><strong>{}</strong> VPCs</li>
<li><strong>{}</strong> services</li>
<li><strong>{}</strong> service subnets</li>
<li><strong>{}</strong> findings</li>
<li><strong>{}</strong> suppressed</li>
</ul>
<table>
<caption>Findings by severity</caption>
<thead><tr><th scope="col">Severity</th><th scope="col">Findings</th></tr></thead>
<tbody>"#,
        maps.len(),
        s.services,
        s.subnets,
        s.findings,
        s.suppressed
    );
    for &severity in Severity::VARIANTS {
        let _ = writeln!(
            out,
            r#"<tr><td><span class="sev sev-{severity}">{severity}</span></td><td>{}</td></tr>"#,
            count(report, severity)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if !report.warnings.is_empty() {
        out.push_str("<h3>Warnings about the input</h3>\n<ul class=\"warnings\">\n");
        for warning in &report.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(warning));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn findings(out: &mut String, report: &Report, maps: &[VpcMap]) {
    out.push_str("<section id=\"findings\" aria-labelledby=\"findings-heading\">\n<h2 id=\"findings-heading\">Findings</h2>\n");
    out.push_str("<form id=\"filters\" aria-label=\"Filter the findings\">\n<fieldset><legend>Severity</legend>\n");
    for &severity in Severity::VARIANTS {
        let _ = writeln!(
            out,
            r#"<label><input type="checkbox" name="severity" value="{severity}" checked> {severity} ({})</label>"#,
            count(report, severity)
        );
    }
    out.push_str("</fieldset>\n<label for=\"rule-filter\">Rule</label>\n<select id=\"rule-filter\" name=\"rule\">\n<option value=\"\">all rules</option>\n");
    let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    for rule in rules {
        let _ = writeln!(out, "<option value=\"{rule}\">{rule}</option>");
    }
    let _ = writeln!(
        out,
        "</select>\n<p id=\"filter-status\" role=\"status\" aria-live=\"polite\">{n} of {n} findings shown</p>\n</form>",
        n = report.findings.len()
    );
    if report.findings.is_empty() {
        out.push_str("<p>No findings: every service subnet reaches its dependencies the recommended way.</p>\n");
    }
    let anchors: BTreeMap<(&str, String), &str> = maps
        .iter()
        .flat_map(|m| {
            m.anchors
                .iter()
                .map(|(key, anchor)| ((m.vpc.as_str(), key.clone()), anchor.as_str()))
        })
        .collect();
    let mut groups: BTreeMap<String, Vec<(usize, &Finding)>> = BTreeMap::new();
    for (n, finding) in report.findings.iter().enumerate() {
        groups
            .entry(group_of(finding))
            .or_default()
            .push((n, finding));
    }
    for (group, members) in &groups {
        let _ = writeln!(
            out,
            "<section class=\"group\"><h3>{}</h3>\n<ul class=\"findings\">",
            esc(group)
        );
        for (n, finding) in members {
            let anchor = anchors.get(&(finding.vpc.as_str(), finding.key())).copied();
            finding_item(out, *n, finding, anchor);
        }
        out.push_str("</ul></section>\n");
    }
    out.push_str("<p id=\"no-findings\" hidden>No findings match the filters.</p>\n</section>\n");
}

fn finding_item(out: &mut String, n: usize, f: &Finding, anchor: Option<&str>) {
    let subject = subject_within_group(f);
    let _ = writeln!(
        out,
        r#"<li class="finding" id="finding-{n}" data-severity="{sev}" data-rule="{rule}" data-key="{key}">
<h4><span class="sev sev-{sev}">{sev}</span> <code>{rule}</code> {subject}</h4>
<p><span class="label">Why:</span> {message}</p>"#,
        sev = f.severity,
        rule = f.rule,
        key = esc(&f.key()),
        subject = esc(&subject.join(" / ")),
        message = esc(&f.message),
    );
    if let Some(path) = &f.path {
        let _ = writeln!(
            out,
            "<p><span class=\"label\">Path:</span> {}</p>\n<ol>",
            esc(&path.via)
        );
        for step in &path.steps {
            let _ = writeln!(out, "<li>{}</li>", esc(step));
        }
        if let Some(at) = &path.broken_at {
            let _ = writeln!(out, "<li class=\"broken-at\">broken: {}</li>", esc(at));
        }
        out.push_str("</ol>\n");
    }
    if f.remediation.is_empty() {
        out.push_str(
            "<p><span class=\"label\">Fix:</span> manual (notify-only: no automatic plan)</p>\n",
        );
    } else {
        out.push_str("<p><span class=\"label\">Plan:</span></p>\n<ol class=\"plan\">\n");
        for action in &f.remediation {
            let _ = writeln!(
                out,
                "<li>{} <code>[{}]</code></li>",
                esc(&action.describe()),
                action.name()
            );
        }
        out.push_str("</ol>\n");
    }
    if let Some(anchor) = anchor {
        let _ = writeln!(
            out,
            "<p><a class=\"on-map\" href=\"#{}\">Show on the map</a></p>",
            esc(anchor)
        );
    }
    out.push_str("</li>\n");
}

#[cfg(test)]
mod tests;
