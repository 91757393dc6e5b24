//! Graphviz DOT text of [`VpcMap`]s, for people who render it elsewhere (`dot -Tsvg`): one
//! cluster per VPC and per AZ, subnets with their NAT gateways and interface endpoint ENIs in
//! their AZ, the VPC's edge nodes, the dependencies outside, and two edges per path (subnet → hop,
//! hop → dependency) coloured by verdict, the first one labelled with the rule ids.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{HopNode, Verdict, VpcMap};

/// Quotes a DOT id or label (escapes `"` and `\`; `\n` is DOT's line break).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn node_line(out: &mut String, indent: &str, node: &HopNode) {
    let _ = writeln!(
        out,
        "{indent}{} [label={}, class={}];",
        quote(&node.id),
        quote(&format!(
            "{}\n{} · {}",
            node.id,
            node.kind.as_str(),
            node.detail
        )),
        quote(node.kind.as_str()),
    );
}

/// The whole map as one DOT digraph.
pub fn render(maps: &[VpcMap]) -> String {
    let mut out = String::from(
        "digraph reachguard {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n  edge [fontname=\"monospace\", fontsize=9];\n",
    );
    for map in maps {
        let _ = writeln!(
            out,
            "  subgraph {} {{\n    label={};\n    id={};",
            quote(&format!("cluster_{}", map.vpc)),
            quote(&map.title()),
            quote(&map.vpc)
        );
        for az in &map.azs {
            let _ = writeln!(
                out,
                "    subgraph {} {{\n      label={};",
                quote(&format!("cluster_{}_{}", map.vpc, az.name)),
                quote(&format!("AZ {}", az.name))
            );
            for subnet in &az.subnets {
                let mut label = format!("{}\n{}", subnet.title(), subnet.address());
                let mut class = "subnet";
                if !subnet.services.is_empty() {
                    let _ = write!(label, "\nservices: {}", subnet.services.join(", "));
                    class = "subnet service-subnet";
                }
                let _ = writeln!(
                    out,
                    "      {} [label={}, class={}, style=filled, fillcolor=\"#e8f0fe\"];",
                    quote(&subnet.id),
                    quote(&label),
                    quote(class)
                );
                for nat in &subnet.nat_gateways {
                    node_line(&mut out, "      ", nat);
                    let _ = writeln!(
                        out,
                        "      {} -> {} [style=dotted, arrowhead=none, label=\"in\"];",
                        quote(&nat.id),
                        quote(&subnet.id)
                    );
                }
                for (endpoint, service) in &subnet.endpoint_enis {
                    let eni = format!("{endpoint}@{}", subnet.id);
                    let _ = writeln!(
                        out,
                        "      {} [label={}, class=\"eni\", shape=note];",
                        quote(&eni),
                        quote(&format!("ENI of {endpoint} ({service})\nin {}", subnet.id))
                    );
                    let _ = writeln!(
                        out,
                        "      {} -> {} [style=dotted, arrowhead=none];",
                        quote(&eni),
                        quote(endpoint)
                    );
                }
            }
            out.push_str("    }\n");
        }
        for node in &map.edge_nodes {
            node_line(&mut out, "    ", node);
        }
        out.push_str("  }\n");
        for dependency in &map.dependencies {
            let _ = writeln!(
                out,
                "  {} [label={}, class=\"dependency\", shape=oval];",
                quote(&map.dependency_id(dependency)),
                quote(dependency)
            );
        }
        let mut onward = BTreeSet::new();
        for path in &map.paths {
            let colour = map.colour(path);
            let mut label = format!("{} {}", path.service, path.dependency);
            if !path.rules.is_empty() {
                let _ = write!(label, "\n{}", path.rules_text());
            }
            let target = path
                .hop
                .clone()
                .unwrap_or_else(|| format!("{}-no-route", path.anchor));
            if path.hop.is_none() {
                let _ = writeln!(
                    out,
                    "  {} [label=\"no route\", shape=point, color=\"#c62828\"];",
                    quote(&target)
                );
            }
            let _ = writeln!(
                out,
                "  {} -> {} [id={}, class={}, color={}, label={}];",
                quote(&path.subnet),
                quote(&target),
                quote(&path.anchor),
                quote(&format!("path {}", path.verdict.as_str())),
                quote(colour),
                quote(&label)
            );
            // Hop → dependency once per hop, dependency and colour: paths share it.
            if path.hop.is_some()
                && onward.insert((target.clone(), path.dependency.clone(), colour))
            {
                let style = if path.verdict == Verdict::Broken {
                    "dashed"
                } else {
                    "solid"
                };
                let _ = writeln!(
                    out,
                    "  {} -> {} [color={}, style={style}];",
                    quote(&target),
                    quote(&map.dependency_id(&path.dependency)),
                    quote(colour)
                );
            }
        }
    }
    out.push_str("}\n");
    out
}
