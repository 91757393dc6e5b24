//! SVG drawing of [`VpcMap`]s, laid out the way engineers draw a VPC on a whiteboard.
//!
//! Left to right: one column per availability zone (subnets stacked by id; each box lists the
//! route table, services, NAT gateways and interface endpoint ENIs it holds, then one row per
//! path), the VPC's edge (internet gateway, endpoints, NAT gateways and targets drawn nowhere
//! else), and outside the VPC the dependencies. Paths are orthogonal lines that run only in the
//! gaps: from the subnet's row into the lane right of its column, down to a bus under the
//! columns, along it to the hop, then on to the dependency, so no line crosses a box. Colour
//! gives the verdict; a broken path carries a cross where it breaks (the subnet or the hop) and
//! its row names the rule ids. Integer coordinates and a fixed order make the bytes
//! deterministic.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{
    BROKEN, BreakAt, ENDPOINT_OK, HopKind, HopNode, PathEdge, ROUTE_OK, SubnetNode, Verdict,
    VpcMap, WARNED, escape_xml,
};

const PAD: i64 = 16;
const COL_W: i64 = 380;
const GAP: i64 = 44;
const LINE: i64 = 15;
const SUBNET_GAP: i64 = 14;
const EDGE_W: i64 = 250;
const NODE_H: i64 = 38;
const NODE_GAP: i64 = 12;
const DEP_W: i64 = 150;
const DEP_H: i64 = 26;
const HEADER_H: i64 = 78;
/// Width of one character of the 11px monospace font, in tenths of a pixel.
const CHAR_W_TENTHS: i64 = 66;

/// The whole map (every VPC, stacked) as one SVG document.
pub fn render(maps: &[VpcMap]) -> String {
    let layouts: Vec<Layout> = maps.iter().map(Layout::of).collect();
    let width = layouts.iter().map(|l| l.width).max().unwrap_or(2 * PAD);
    let height = layouts.iter().map(|l| l.height).sum::<i64>().max(2 * PAD);
    let mut out = String::new();
    let names: Vec<&str> = maps.iter().map(|m| m.vpc.as_str()).collect();
    // Unique when the report inlines one SVG per VPC.
    let title_id = format!("{}-title", names.first().copied().unwrap_or("map"));
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="reachguard-map" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="11" role="img" aria-labelledby="{title_id}">"#
    );
    let _ = writeln!(
        out,
        r#"<title id="{title_id}">reachguard connectivity map: {}</title>"#,
        escape_xml(&names.join(", "))
    );
    let _ = writeln!(
        out,
        r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let mut y = 0;
    for (map, layout) in maps.iter().zip(&layouts) {
        let _ = writeln!(out, r#"<g transform="translate(0,{y})">"#);
        draw_vpc(&mut out, map, layout);
        out.push_str("</g>\n");
        y += layout.height;
    }
    out.push_str("</svg>\n");
    out
}

/// Where one subnet's box and rows are.
struct SubnetBox {
    x: i64,
    y: i64,
    height: i64,
    column: usize,
    /// Its lines of text, top to bottom.
    lines: Vec<BoxLine>,
}

/// One line of text in a subnet box.
enum BoxLine {
    Title,
    Address,
    Services,
    Nat(usize),
    Eni(usize),
    Path(usize),
    Rules,
}

/// Where a path enters a hop: a node on the VPC edge from its left (`column: None`), a NAT
/// gateway drawn in a subnet box of `column` from the box's right side.
#[derive(Clone, Copy)]
struct HopPoint {
    x: i64,
    y: i64,
    column: Option<usize>,
}

struct Layout {
    width: i64,
    height: i64,
    boxes: BTreeMap<String, SubnetBox>,
    column_x: Vec<i64>,
    edge_x: i64,
    edge_y: Vec<i64>,
    dep_x: i64,
    dep_y: BTreeMap<String, i64>,
    frame_bottom: i64,
    bus_y: i64,
    hops: BTreeMap<String, HopPoint>,
    /// The y of each path's row, by index into [`VpcMap::paths`].
    rows: Vec<i64>,
}

impl Layout {
    fn of(map: &VpcMap) -> Layout {
        let top = HEADER_H;
        let column_x: Vec<i64> = (0..map.azs.len() as i64)
            .map(|i| 2 * PAD + i * (COL_W + GAP))
            .collect();
        let edge_x = 2 * PAD + map.azs.len() as i64 * (COL_W + GAP);
        let mut paths_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in map.paths.iter().enumerate() {
            paths_of.entry(p.subnet.as_str()).or_default().push(i);
        }
        let mut boxes = BTreeMap::new();
        let mut rows = vec![0; map.paths.len()];
        let mut hops = BTreeMap::new();
        let mut columns_bottom = top;
        for (column, az) in map.azs.iter().enumerate() {
            let x = column_x[column];
            let mut y = top + 8;
            for subnet in &az.subnets {
                let lines = box_lines(subnet, paths_of.get(subnet.id.as_str()), map);
                let height = lines.len() as i64 * LINE + 12;
                for (n, line) in lines.iter().enumerate() {
                    let line_y = y + 8 + n as i64 * LINE + LINE / 2;
                    match line {
                        BoxLine::Path(i) => rows[*i] = line_y,
                        BoxLine::Nat(i) => {
                            hops.insert(
                                subnet.nat_gateways[*i].id.clone(),
                                HopPoint {
                                    x: x + COL_W,
                                    y: line_y,
                                    column: Some(column),
                                },
                            );
                        }
                        _ => {}
                    }
                }
                boxes.insert(
                    subnet.id.clone(),
                    SubnetBox {
                        x,
                        y,
                        height,
                        column,
                        lines,
                    },
                );
                y += height + SUBNET_GAP;
            }
            columns_bottom = columns_bottom.max(y);
        }
        let mut edge_y = Vec::with_capacity(map.edge_nodes.len());
        let mut y = top + 8;
        for node in &map.edge_nodes {
            edge_y.push(y);
            hops.insert(
                node.id.clone(),
                HopPoint {
                    x: edge_x,
                    y: y + NODE_H / 2,
                    column: None,
                },
            );
            y += NODE_H + NODE_GAP;
        }
        let frame_bottom = columns_bottom.max(y) + 40;
        let bus_y = frame_bottom - 30;
        let dep_x = edge_x + EDGE_W + 2 * PAD + 56;
        let dep_y = map
            .dependencies
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), top + 8 + i as i64 * (DEP_H + NODE_GAP)))
            .collect::<BTreeMap<_, _>>();
        let deps_bottom = top + 8 + map.dependencies.len() as i64 * (DEP_H + NODE_GAP);
        Layout {
            width: dep_x + DEP_W + PAD,
            height: frame_bottom.max(deps_bottom) + 2 * PAD,
            boxes,
            column_x,
            edge_x,
            edge_y,
            dep_x,
            dep_y,
            frame_bottom,
            bus_y,
            hops,
            rows,
        }
    }

    /// The lane right of a column (or left of the edge nodes), with an offset per verdict so
    /// that colours stay visible where lanes are shared.
    fn lane(&self, column: Option<usize>, offset: i64) -> i64 {
        match column {
            Some(c) => self.column_x[c] + COL_W + 10 + offset,
            None => self.edge_x - GAP + 10 + offset,
        }
    }
}

fn box_lines(subnet: &SubnetNode, paths: Option<&Vec<usize>>, map: &VpcMap) -> Vec<BoxLine> {
    let mut lines = vec![BoxLine::Title, BoxLine::Address];
    if !subnet.services.is_empty() {
        lines.push(BoxLine::Services);
    }
    lines.extend((0..subnet.nat_gateways.len()).map(BoxLine::Nat));
    lines.extend((0..subnet.endpoint_enis.len()).map(BoxLine::Eni));
    for &i in paths.into_iter().flatten() {
        lines.push(BoxLine::Path(i));
        let wrapped = rule_lines(&map.paths[i]).len();
        lines.extend((0..wrapped).map(|_| BoxLine::Rules));
    }
    lines
}

/// Width of a path row's text.
const ROW_W: i64 = COL_W - 24;
/// Width of a path's rule ids, indented under its row.
const RULES_W: i64 = ROW_W - 12;

/// A path's rule ids, wrapped to lines that fit under its row.
fn rule_lines(path: &PathEdge) -> Vec<String> {
    let max = (RULES_W * 10 / CHAR_W_TENTHS) as usize;
    let mut lines: Vec<String> = Vec::new();
    for rule in &path.rules {
        let rule = rule.as_str();
        match lines.last_mut() {
            Some(line) if line.chars().count() + 2 + rule.len() <= max => {
                line.push_str(", ");
                line.push_str(rule);
            }
            _ => lines.push(rule.to_string()),
        }
    }
    lines
}

/// Cuts `text` to what fits in `width` pixels, ending in `…` when cut.
fn fit(text: &str, width: i64) -> String {
    let max = (width * 10 / CHAR_W_TENTHS).max(1) as usize;
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn text(out: &mut String, x: i64, y: i64, attrs: &str, content: &str, width: i64) {
    let shown = fit(content, width);
    let _ = write!(out, r#"<text x="{x}" y="{y}"{attrs}>"#);
    if shown != content {
        let _ = write!(out, "<title>{}</title>", escape_xml(content));
    }
    let _ = writeln!(out, "{}</text>", escape_xml(&shown));
}

fn draw_vpc(out: &mut String, map: &VpcMap, layout: &Layout) {
    let frame_w = layout.edge_x + EDGE_W;
    let _ = writeln!(
        out,
        r##"<g id="{}" class="vpc"><rect x="{PAD}" y="{PAD}" width="{frame_w}" height="{}" rx="10" fill="#f7f9fc" stroke="#5c6bc0" stroke-width="1.5"/>"##,
        escape_xml(&map.vpc),
        layout.frame_bottom - PAD
    );
    let title = map.title();
    text(
        out,
        2 * PAD,
        PAD + 22,
        r#" font-size="14" font-weight="bold""#,
        &title,
        frame_w - 2 * PAD,
    );
    draw_legend(out, 2 * PAD, PAD + 42);
    out.push_str("</g>\n");
    for (column, az) in map.azs.iter().enumerate() {
        let x = layout.column_x[column];
        let _ = writeln!(
            out,
            r##"<g class="az"><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="none" stroke="#9fa8da" stroke-dasharray="4 3"/>"##,
            x - 6,
            HEADER_H - 14,
            COL_W + 12,
            layout.bus_y - 8 - (HEADER_H - 14)
        );
        text(
            out,
            x,
            HEADER_H - 2,
            r##" font-weight="bold" fill="#3949ab""##,
            &format!("AZ {}", az.name),
            COL_W,
        );
        out.push_str("</g>\n");
        for subnet in &az.subnets {
            draw_subnet(out, map, subnet, &layout.boxes[&subnet.id]);
        }
    }
    text(
        out,
        layout.edge_x,
        HEADER_H - 2,
        r##" font-weight="bold" fill="#3949ab""##,
        "VPC edge",
        EDGE_W,
    );
    for (node, &y) in map.edge_nodes.iter().zip(&layout.edge_y) {
        draw_node(out, node, layout.edge_x, y);
    }
    text(
        out,
        layout.dep_x,
        HEADER_H - 2,
        r##" font-weight="bold" fill="#3949ab""##,
        "AWS services",
        DEP_W,
    );
    for dependency in &map.dependencies {
        let y = layout.dep_y[dependency];
        let _ = writeln!(
            out,
            r##"<g id="{}" class="dependency"><rect x="{}" y="{y}" width="{DEP_W}" height="{DEP_H}" rx="13" fill="#eceff1" stroke="#607d8b"/>"##,
            escape_xml(&map.dependency_id(dependency)),
            layout.dep_x
        );
        text(out, layout.dep_x + 12, y + 17, "", dependency, DEP_W - 24);
        out.push_str("</g>\n");
    }
    for verdict in [Verdict::Ok, Verdict::Warned, Verdict::Broken] {
        for (i, path) in map.paths.iter().enumerate() {
            if path.verdict == verdict {
                draw_path(out, map, layout, path, layout.rows[i]);
            }
        }
    }
}

fn draw_legend(out: &mut String, x: i64, y: i64) {
    let items = [
        (ENDPOINT_OK, "through an endpoint"),
        (ROUTE_OK, "through NAT / internet gateway"),
        (WARNED, "works, a finding applies"),
        (BROKEN, "broken (× where it breaks)"),
    ];
    let mut cx = x;
    out.push_str(r#"<g class="legend">"#);
    for (colour, label) in items {
        let _ = write!(
            out,
            r#"<line x1="{cx}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"/>"#,
            y - 4,
            cx + 22,
            y - 4
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{y}">{}</text>"#,
            cx + 28,
            escape_xml(label)
        );
        cx += 28 + label.chars().count() as i64 * CHAR_W_TENTHS / 10 + 24;
    }
    out.push_str("</g>\n");
}

fn draw_subnet(out: &mut String, map: &VpcMap, subnet: &SubnetNode, b: &SubnetBox) {
    let service_subnet = !subnet.services.is_empty();
    let (fill, stroke) = if service_subnet {
        ("#e8f0fe", "#1a73e8")
    } else {
        ("#ffffff", "#90a4ae")
    };
    let _ = writeln!(
        out,
        r#"<g id="{}" class="subnet{}" data-az="{}"><rect x="{}" y="{}" width="{COL_W}" height="{}" rx="6" fill="{fill}" stroke="{stroke}"/>"#,
        escape_xml(&subnet.id),
        if service_subnet {
            " service-subnet"
        } else {
            ""
        },
        escape_xml(&map.azs[b.column].name),
        b.x,
        b.y,
        b.height
    );
    let inner = COL_W - 16;
    for (n, line) in b.lines.iter().enumerate() {
        let y = b.y + 8 + n as i64 * LINE + 11;
        let x = b.x + 8;
        match line {
            BoxLine::Title => text(out, x, y, r#" font-weight="bold""#, &subnet.title(), inner),
            BoxLine::Address => text(out, x, y, r##" fill="#455a64""##, &subnet.address(), inner),
            BoxLine::Services => text(
                out,
                x,
                y,
                r##" fill="#0d47a1""##,
                &format!("services: {}", subnet.services.join(", ")),
                inner,
            ),
            BoxLine::Nat(i) => {
                let nat = &subnet.nat_gateways[*i];
                let _ = write!(
                    out,
                    r#"<g id="{}" class="node nat-gateway">"#,
                    escape_xml(&nat.id)
                );
                text(
                    out,
                    x,
                    y,
                    r##" fill="#4e342e""##,
                    &format!("◆ NAT {} ({})", nat.id, nat.detail),
                    inner,
                );
                out.push_str("</g>\n");
            }
            BoxLine::Eni(i) => {
                let (endpoint, service) = &subnet.endpoint_enis[*i];
                let _ = write!(
                    out,
                    r#"<g class="eni" data-endpoint="{}">"#,
                    escape_xml(endpoint)
                );
                text(
                    out,
                    x,
                    y,
                    r##" fill="#1b5e20""##,
                    &format!("▣ ENI of {endpoint} ({service})"),
                    inner,
                );
                out.push_str("</g>\n");
            }
            BoxLine::Path(_) | BoxLine::Rules => {}
        }
    }
    out.push_str("</g>\n");
}

fn draw_node(out: &mut String, node: &HopNode, x: i64, y: i64) {
    let (class, fill, stroke) = match node.kind {
        HopKind::InternetGateway => ("internet-gateway", "#fff8e1", "#f9a825"),
        HopKind::GatewayEndpoint => ("gateway-endpoint", "#e8f5e9", "#2e7d32"),
        HopKind::InterfaceEndpoint => ("interface-endpoint", "#e8f5e9", "#2e7d32"),
        HopKind::NatGateway => ("nat-gateway", "#efebe9", "#6d4c41"),
        HopKind::Missing => ("missing", "#ffebee", "#c62828"),
        HopKind::Beyond => ("beyond", "#f3e5f5", "#7b1fa2"),
    };
    let dash = if node.kind == HopKind::Missing {
        r#" stroke-dasharray="5 3""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<g id="{}" class="node {class}"><rect x="{x}" y="{y}" width="{EDGE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}"{dash}/>"#,
        escape_xml(&node.id)
    );
    text(
        out,
        x + 8,
        y + 15,
        r#" font-weight="bold""#,
        &node.id,
        EDGE_W - 16,
    );
    text(
        out,
        x + 8,
        y + 30,
        r##" fill="#455a64""##,
        &format!("{} · {}", node.kind.as_str(), node.detail),
        EDGE_W - 16,
    );
    out.push_str("</g>\n");
}

fn polyline(out: &mut String, points: &[(i64, i64)], stroke: &str, dashed: bool, class: &str) {
    let list: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
    let dash = if dashed {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<polyline class="{class}" points="{}" fill="none" stroke="{stroke}" stroke-width="2" stroke-linejoin="round"{dash}/>"#,
        list.join(" ")
    );
}

fn draw_path(out: &mut String, map: &VpcMap, layout: &Layout, path: &PathEdge, row_y: i64) {
    let b = &layout.boxes[&path.subnet];
    let stroke = map.colour(path);
    let rules: Vec<&str> = path.rules.iter().map(|r| r.as_str()).collect();
    let _ = writeln!(
        out,
        r#"<g id="{}" class="path {}" data-service="{}" data-subnet="{}" data-dependency="{}" data-hop="{}" data-rules="{}">"#,
        escape_xml(&path.anchor),
        path.verdict.as_str(),
        escape_xml(&path.service),
        escape_xml(&path.subnet),
        escape_xml(&path.dependency),
        escape_xml(path.hop.as_deref().unwrap_or("")),
        rules.join(" ")
    );
    let hop_text = path.hop.as_deref().unwrap_or("no route");
    let _ = writeln!(
        out,
        "<title>{} in {} → {} via {hop_text}: {}{}</title>",
        escape_xml(&path.service),
        escape_xml(&path.subnet),
        escape_xml(&path.dependency),
        path.verdict.as_str(),
        if rules.is_empty() {
            String::new()
        } else {
            format!(" ({})", rules.join(", "))
        }
    );
    let mark = match path.verdict {
        Verdict::Ok => "✓",
        Verdict::Warned => "!",
        Verdict::Broken => "✗",
    };
    text(
        out,
        b.x + 8,
        row_y + 4,
        &format!(r#" fill="{stroke}""#),
        &format!("{mark} {} {} → {hop_text}", path.service, path.dependency),
        ROW_W,
    );
    for (k, line) in rule_lines(path).iter().enumerate() {
        text(
            out,
            b.x + 20,
            row_y + 4 + (k as i64 + 1) * LINE,
            &format!(r#" class="rule-label" fill="{stroke}""#),
            line,
            RULES_W,
        );
    }
    let offset = match path.verdict {
        Verdict::Ok => 0,
        Verdict::Warned => 4,
        Verdict::Broken => 8,
    };
    let start = (b.x + COL_W, row_y);
    let lane = layout.lane(Some(b.column), offset);
    let bus = layout.bus_y + offset;
    let dep_y = layout.dep_y[&path.dependency] + DEP_H / 2;
    let dep_lane = layout.dep_x - 28 + offset;
    let broken = path.verdict == Verdict::Broken;
    let hop = path
        .hop
        .as_deref()
        .and_then(|id| layout.hops.get(id))
        .copied();
    let Some(hop) = hop else {
        // No route at all: a stub out of the subnet, crossed.
        polyline(
            out,
            &[start, (start.0 + 14, row_y)],
            stroke,
            false,
            "to-hop",
        );
        cross(out, start.0 + 14, row_y, &rules);
        out.push_str("</g>\n");
        return;
    };
    // Subnet → hop, through the lanes and the bus.
    let mut to_hop = vec![start, (lane, row_y)];
    if hop.column == Some(b.column) {
        to_hop.push((lane, hop.y));
    } else {
        let hop_lane = layout.lane(hop.column, offset);
        to_hop.extend([(lane, bus), (hop_lane, bus), (hop_lane, hop.y)]);
    }
    to_hop.push((hop.x, hop.y));
    polyline(out, &to_hop, stroke, false, "to-hop");
    // Hop → dependency: out of the hop's right side into the lane before the dependencies.
    let exit = match hop.column {
        Some(_) => hop.x,
        None => hop.x + EDGE_W,
    };
    let mut to_dep = vec![(exit, hop.y)];
    if let Some(column) = hop.column {
        let hop_lane = layout.lane(Some(column), offset + 2);
        to_dep.extend([
            (hop_lane, hop.y),
            (hop_lane, bus + 10),
            (dep_lane, bus + 10),
        ]);
    } else {
        to_dep.push((dep_lane, hop.y));
    }
    to_dep.extend([(dep_lane, dep_y), (layout.dep_x, dep_y)]);
    polyline(out, &to_dep, stroke, broken, "to-dependency");
    match path.broken_at {
        Some(BreakAt::Subnet) => cross(out, start.0, start.1, &rules),
        Some(BreakAt::Hop) => cross(out, hop.x, hop.y, &rules),
        None => {}
    }
    out.push_str("</g>\n");
}

/// The mark where a path breaks, labelled (for tooltips and screen readers) with its rule ids.
fn cross(out: &mut String, x: i64, y: i64, rules: &[&str]) {
    let _ = writeln!(
        out,
        r##"<g class="break" data-rules="{}"><title>broken: {}</title><circle cx="{x}" cy="{y}" r="7" fill="{BROKEN}" stroke="#ffffff" stroke-width="1.5"/><path d="M{} {}L{} {}M{} {}L{} {}" stroke="#ffffff" stroke-width="2"/></g>"##,
        rules.join(" "),
        rules.join(", "),
        x - 3,
        y - 3,
        x + 3,
        y + 3,
        x - 3,
        y + 3,
        x + 3,
        y - 3
    );
}
