//! Structural tests of the map on every bundled example: every subnet, endpoint, NAT gateway and
//! service is drawn in every format, and a broken path exists exactly for each
//! `unreachable-dependency` finding, carrying its rule id. Plus the README's picture.

use std::collections::BTreeSet;

use super::*;
use crate::evaluate::evaluate;
use crate::model::Topology;
use crate::snapshot::Snapshot;
use crate::testing::EXAMPLES;

fn topology(json: &str) -> Topology {
    Topology::from_snapshot(&Snapshot::from_json(json).expect("example parses"))
        .expect("example is valid")
}

fn maps_and_report(topology: &Topology) -> (Vec<VpcMap>, Report) {
    let report = evaluate(topology);
    (build(&Evaluation::new(topology), &report), report)
}

/// `(service short name, subnet, dependency)` of every `unreachable-dependency` finding.
fn unreachable(report: &Report) -> BTreeSet<(String, String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::UnreachableDependency)
        .map(|f| {
            (
                short_service(f.service.as_deref().unwrap_or_default()).to_string(),
                f.subnet.clone().unwrap_or_default(),
                f.dependency.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// The values of `attribute="…"` on every element of `svg` whose class starts with `class`.
fn attribute_values(svg: &str, class: &str, attribute: &str) -> Vec<String> {
    svg.lines()
        .filter(|line| line.contains(&format!(r#"class="{class}"#)))
        .filter_map(|line| {
            let start = line.find(&format!(r#" {attribute}=""#))? + attribute.len() + 3;
            let end = start + line[start..].find('"')?;
            Some(line[start..end].to_string())
        })
        .collect()
}

#[test]
fn every_example_draws_every_resource_in_every_format() {
    for (name, json) in EXAMPLES {
        let topology = topology(json);
        let (maps, _) = maps_and_report(&topology);
        let outputs = [
            ("svg", svg::render(&maps)),
            ("dot", dot::render(&maps)),
            ("mermaid", mermaid::render(&maps)),
        ];
        for (format, text) in &outputs {
            let drawn = |id: &str| match *format {
                "svg" => text.contains(&format!(r#"<g id="{id}""#)),
                "dot" => text.contains(&format!("\"{id}\" [label=")),
                _ => {
                    text.contains(&format!("{}[", mermaid::id(id)))
                        || text.contains(&format!("{}{{{{", mermaid::id(id)))
                }
            };
            for subnet in &topology.subnets {
                assert!(
                    drawn(&subnet.id),
                    "{name} {format}: subnet {} missing",
                    subnet.id
                );
            }
            for endpoint in &topology.endpoints {
                assert!(
                    drawn(&endpoint.id),
                    "{name} {format}: endpoint {} missing",
                    endpoint.id
                );
            }
            for nat in &topology.nat_gateways {
                assert!(drawn(&nat.id), "{name} {format}: NAT {} missing", nat.id);
            }
            for service in topology.services.iter().filter(|s| s.in_scope) {
                let short = short_service(&service.arn);
                assert!(
                    text.contains(&format!("services: {short}")),
                    "{name} {format}: service {short} missing"
                );
            }
        }
    }
}

#[test]
fn a_broken_path_exists_exactly_for_each_unreachable_dependency_finding() {
    for (name, json) in EXAMPLES {
        let topology = topology(json);
        let (maps, report) = maps_and_report(&topology);
        let expected = unreachable(&report);

        let broken: BTreeSet<_> = maps
            .iter()
            .flat_map(|m| &m.paths)
            .filter(|p| p.verdict == Verdict::Broken)
            .inspect(|p| {
                assert_eq!(
                    p.rules.first(),
                    Some(&RuleId::UnreachableDependency),
                    "{name}: {p:?}"
                );
                assert!(p.broken_at.is_some(), "{name}: {p:?}");
            })
            .map(|p| (p.service.clone(), p.subnet.clone(), p.dependency.clone()))
            .collect();
        assert_eq!(broken, expected, "{name}: model");

        let svg = svg::render(&maps);
        let svg_broken: BTreeSet<_> = attribute_values(&svg, "path broken", "data-service")
            .into_iter()
            .zip(attribute_values(&svg, "path broken", "data-subnet"))
            .zip(attribute_values(&svg, "path broken", "data-dependency"))
            .map(|((service, subnet), dependency)| (service, subnet, dependency))
            .collect();
        assert_eq!(svg_broken, expected, "{name}: svg");
        let rules = attribute_values(&svg, "path broken", "data-rules");
        assert_eq!(
            rules.len(),
            expected.len(),
            "{name}: one broken path per finding"
        );
        assert!(
            rules
                .iter()
                .all(|r| r.starts_with("unreachable-dependency")),
            "{name}: {rules:?}"
        );

        let dot = dot::render(&maps);
        assert_eq!(
            dot.matches(r#"class="path broken""#).count(),
            expected.len(),
            "{name}: dot"
        );
        let mermaid = mermaid::render(&maps);
        assert_eq!(
            mermaid.matches("✗ broken: unreachable-dependency").count(),
            expected.len(),
            "{name}: mermaid"
        );
    }
}

#[test]
fn every_finding_is_anchored_on_a_drawn_element() {
    for (name, json) in EXAMPLES {
        let topology = topology(json);
        let (maps, report) = maps_and_report(&topology);
        let svg = svg::render(&maps);
        for finding in &report.findings {
            let map = maps
                .iter()
                .find(|m| m.vpc == finding.vpc)
                .expect("VPC drawn");
            let anchor = &map.anchors[&finding.key()];
            assert!(
                svg.contains(&format!(r#"<g id="{anchor}""#)),
                "{name}: {} anchored at {anchor}, which is not drawn",
                finding.key()
            );
        }
    }
}

#[test]
fn warnings_colour_working_paths_the_findings_concern() {
    let topology = topology(EXAMPLES[2].1);
    let (maps, _) = maps_and_report(&topology);
    let paths = &maps[0].paths;
    let s3 = paths
        .iter()
        .find(|p| p.dependency == "s3" && p.subnet.ends_with("600a1"))
        .expect("the s3 path of subnet a");
    assert_eq!(s3.verdict, Verdict::Warned);
    assert!(s3.rules.contains(&RuleId::NatForGatewayService), "{s3:?}");
    assert!(s3.rules.contains(&RuleId::NatSingleAz), "{s3:?}");
    assert!(paths.iter().all(|p| p.verdict != Verdict::Broken));
}

#[test]
fn output_does_not_depend_on_the_order_of_the_input() {
    for (name, json) in EXAMPLES {
        let doc = Snapshot::from_json(json).expect("example parses");
        let mut reversed = doc.clone();
        reversed.vpcs.reverse();
        reversed.subnets.reverse();
        reversed.route_tables.reverse();
        reversed.vpc_endpoints.reverse();
        reversed.nat_gateways.reverse();
        reversed.internet_gateways.reverse();
        reversed.services.reverse();
        let render_all = |doc: &Snapshot| {
            let topology = Topology::from_snapshot(doc).expect("example is valid");
            let (maps, _) = maps_and_report(&topology);
            (
                svg::render(&maps),
                dot::render(&maps),
                mermaid::render(&maps),
            )
        };
        assert!(render_all(&doc) == render_all(&reversed), "{name}");
    }
}

#[test]
fn escape_xml_escapes_markup_and_quotes() {
    let cases = [
        ("plain", "plain"),
        ("a<b>&c", "a&lt;b&gt;&amp;c"),
        (r#"say "hi" it's"#, "say &quot;hi&quot; it&#39;s"),
    ];
    for (input, expected) in cases {
        assert_eq!(escape_xml(input), expected, "{input}");
    }
}

#[test]
fn short_service_is_the_last_path_segment() {
    let cases = [
        ("arn:aws:ecs:us-east-1:1:service/cluster/api", "api"),
        ("arn:aws:ecs:us-east-1:1:service/api", "api"),
        ("no-slash", "no-slash"),
    ];
    for (arn, expected) in cases {
        assert_eq!(short_service(arn), expected, "{arn}");
    }
}

/// The README's map: regenerate with `REACHGUARD_BLESS=1 cargo test -p reachguard-shared map::`.
#[test]
fn readme_map_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/broken-vpc.svg");
    let (maps, _) = maps_and_report(&topology(EXAMPLES[0].1));
    let fresh = svg::render(&maps);
    if std::env::var_os("REACHGUARD_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("docs/broken-vpc.svg is writable");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "docs/broken-vpc.svg is stale: run REACHGUARD_BLESS=1 cargo test -p reachguard-shared map:: and commit it"
    );
}
