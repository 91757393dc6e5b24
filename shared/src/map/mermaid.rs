//! Mermaid flowchart text of [`VpcMap`]s (renders in GitHub comments and Markdown): one subgraph
//! per VPC and per AZ, the same nodes as [`super::dot`], and one edge pair per path coloured by
//! verdict with `linkStyle`, the subnet → hop edge labelled with the rule ids.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{HopNode, Verdict, VpcMap};

/// A Mermaid node id: the text with every character outside `[A-Za-z0-9_]` replaced by `_`.
pub(super) fn id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A quoted Mermaid label: `"` becomes `#quot;`, lines join with `<br/>`.
fn label(lines: &[&str]) -> String {
    let joined = lines.join("<br/>");
    format!("\"{}\"", joined.replace('"', "#quot;"))
}

fn node_line(out: &mut String, indent: &str, node: &HopNode) {
    let detail = format!("{} · {}", node.kind.as_str(), node.detail);
    let _ = writeln!(
        out,
        "{indent}{}{{{{{}}}}}",
        id(&node.id),
        label(&[&node.id, &detail])
    );
}

/// The whole map as one Mermaid flowchart.
pub fn render(maps: &[VpcMap]) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut links = 0usize;
    let mut styles = String::new();
    for map in maps {
        let _ = writeln!(
            out,
            "  subgraph {}[{}]",
            id(&map.vpc),
            label(&[&map.title()])
        );
        for az in &map.azs {
            let _ = writeln!(
                out,
                "    subgraph {}[{}]",
                id(&format!("{}_{}", map.vpc, az.name)),
                label(&[&format!("AZ {}", az.name)])
            );
            for subnet in &az.subnets {
                let title = subnet.title();
                let address = subnet.address();
                let services = format!("services: {}", subnet.services.join(", "));
                let mut lines = vec![title.as_str(), address.as_str()];
                if !subnet.services.is_empty() {
                    lines.push(&services);
                }
                let _ = writeln!(out, "      {}[{}]", id(&subnet.id), label(&lines));
                for nat in &subnet.nat_gateways {
                    node_line(&mut out, "      ", nat);
                    let _ = writeln!(out, "      {} -.- {}", id(&nat.id), id(&subnet.id));
                    links += 1;
                }
                for (endpoint, service) in &subnet.endpoint_enis {
                    let eni = id(&format!("{endpoint}@{}", subnet.id));
                    let text = format!("ENI of {endpoint} ({service})");
                    let _ = writeln!(out, "      {eni}[/{}/]", label(&[&text]));
                    let _ = writeln!(out, "      {eni} -.- {}", id(endpoint));
                    links += 1;
                }
            }
            out.push_str("    end\n");
        }
        for node in &map.edge_nodes {
            node_line(&mut out, "    ", node);
        }
        out.push_str("  end\n");
        for dependency in &map.dependencies {
            let _ = writeln!(
                out,
                "  {}([{}])",
                id(&map.dependency_id(dependency)),
                label(&[dependency])
            );
        }
        let mut onward = BTreeSet::new();
        for path in &map.paths {
            let colour = map.colour(path);
            let mark = match path.verdict {
                Verdict::Ok => "ok",
                Verdict::Warned => "warned",
                Verdict::Broken => "✗ broken",
            };
            let mut text = format!("{} {} {mark}", path.service, path.dependency);
            if !path.rules.is_empty() {
                let _ = write!(text, ": {}", path.rules_text());
            }
            let target = match &path.hop {
                Some(hop) => id(hop),
                None => {
                    let stub = id(&format!("{}-no-route", path.anchor));
                    let _ = writeln!(out, "  {stub}((\"no route\"))");
                    stub
                }
            };
            let _ = writeln!(
                out,
                "  {} -->|{}| {target}",
                id(&path.subnet),
                label(&[&text])
            );
            let _ = writeln!(
                styles,
                "  linkStyle {links} stroke:{colour},stroke-width:2px"
            );
            links += 1;
            // Hop → dependency once per hop, dependency and colour: paths share it.
            if path.hop.is_some()
                && onward.insert((target.clone(), path.dependency.clone(), colour))
            {
                let arrow = if path.verdict == Verdict::Broken {
                    "-.->"
                } else {
                    "-->"
                };
                let _ = writeln!(
                    out,
                    "  {target} {arrow} {}",
                    id(&map.dependency_id(&path.dependency))
                );
                let _ = writeln!(
                    styles,
                    "  linkStyle {links} stroke:{colour},stroke-width:2px"
                );
                links += 1;
            }
        }
    }
    out.push_str(&styles);
    out
}
