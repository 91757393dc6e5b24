//! The HTML report of every bundled example: self-contained (fetches nothing), every finding
//! listed once and linked to an element that exists, ids unique, filters for every severity and
//! for exactly the rules present.

use std::collections::BTreeSet;

use super::*;
use crate::evaluate::evaluate;
use crate::evaluation::Evaluation;
use crate::map::build;
use crate::model::Topology;
use crate::snapshot::Snapshot;
use crate::testing::EXAMPLES;

fn report_of(json: &str) -> (String, Report) {
    let topology = Topology::from_snapshot(&Snapshot::from_json(json).expect("example parses"))
        .expect("example is valid");
    let report = evaluate(&topology);
    let maps = build(&Evaluation::new(&topology), &report);
    let source = Source {
        name: "example",
        region: &topology.region,
        account: topology.account.as_deref(),
    };
    (html(source, &report, &maps), report)
}

/// Every value of `attribute="…"` in `html`.
fn values<'h>(html: &'h str, attribute: &str) -> Vec<&'h str> {
    let needle = format!(" {attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let start = at + needle.len();
            html[start..].find('"').map(|end| &html[start..start + end])
        })
        .collect()
}

#[test]
fn every_finding_is_listed_once_and_linked_to_a_drawn_element() {
    for (name, json) in EXAMPLES {
        let (html, report) = report_of(json);
        let keys: Vec<String> = values(&html, "data-key")
            .into_iter()
            .map(|k| k.replace("&amp;", "&"))
            .collect();
        let expected: Vec<String> = report.findings.iter().map(Finding::key).collect();
        assert_eq!(
            keys.iter().collect::<BTreeSet<_>>(),
            expected.iter().collect::<BTreeSet<_>>(),
            "{name}"
        );
        assert_eq!(keys.len(), expected.len(), "{name}: listed once each");
        let ids: BTreeSet<&str> = values(&html, "id").into_iter().collect();
        let links: Vec<&str> = values(&html, "href");
        assert_eq!(
            links.len(),
            report.findings.len(),
            "{name}: one map link per finding"
        );
        for link in links {
            let target = link.strip_prefix('#').expect("links stay in the page");
            assert!(ids.contains(target), "{name}: {link} points nowhere");
        }
    }
}

#[test]
fn element_ids_are_unique() {
    for (name, json) in EXAMPLES {
        let (html, _) = report_of(json);
        let ids = values(&html, "id");
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{name}: duplicate ids");
    }
}

#[test]
fn the_page_fetches_nothing() {
    for (name, json) in EXAMPLES {
        let (html, _) = report_of(json);
        for attribute in ["src", "srcset", "action", "xlink:href"] {
            assert!(values(&html, attribute).is_empty(), "{name}: {attribute}");
        }
        // The only URL is the SVG namespace, which is a name, never fetched.
        assert_eq!(
            html.matches("://").count(),
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "{name}: a URL in the page"
        );
        assert!(
            html.contains("default-src 'none'"),
            "{name}: CSP blocks fetches"
        );
    }
}

#[test]
fn filters_offer_every_severity_and_exactly_the_rules_present() {
    for (name, json) in EXAMPLES {
        let (html, report) = report_of(json);
        let severities: Vec<&str> = html
            .match_indices(r#"name="severity" value=""#)
            .map(|(at, m)| {
                let start = at + m.len();
                &html[start..start + html[start..].find('"').unwrap_or(0)]
            })
            .collect();
        assert_eq!(severities, ["critical", "high", "medium", "low"], "{name}");
        let options: BTreeSet<&str> = html
            .match_indices("<option value=\"")
            .map(|(at, m)| {
                let start = at + m.len();
                &html[start..start + html[start..].find('"').unwrap_or(0)]
            })
            .filter(|v| !v.is_empty())
            .collect();
        let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(options, rules, "{name}");
    }
}

#[test]
fn group_of_lists_service_findings_under_the_service() {
    let (_, report) = report_of(EXAMPLES[0].1);
    let groups: BTreeSet<String> = report.findings.iter().map(group_of).collect();
    assert!(
        groups.iter().any(|g| g.starts_with("service arn:aws:ecs:")),
        "{groups:?}"
    );
    assert!(
        groups.iter().any(|g| g.ends_with("(VPC-wide)")),
        "{groups:?}"
    );
}
