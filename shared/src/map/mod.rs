//! The connectivity map of a VPC: what `reachguard map` draws and the HTML report embeds.
//!
//! [`build`] turns an [`Evaluation`] and the [`Report`] of the same topology into one [`VpcMap`]
//! per VPC: AZ columns with their subnets (route table, services, NAT gateways and interface
//! endpoint ENIs inside), the nodes on the VPC's edge (internet gateway, endpoints, NAT gateways
//! without a subnet, route targets the input lacks or reachguard cannot see past), the
//! dependencies, and one [`PathEdge`] per service × subnet × dependency path with its verdict and
//! the findings that concern it. [`svg`], [`dot`] and [`mermaid`] render that model; all three are
//! pure and deterministic (same snapshot, same bytes). This module decides nothing about
//! reachability: verdicts come from [`crate::paths`], rule ids from the findings.

pub mod dot;
pub mod mermaid;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet};

use crate::evaluate::Report;
use crate::evaluation::{Evaluation, ServicePath};
use crate::finding::Finding;
use crate::model::{EndpointKind, RouteTarget, Subnet, Topology};
use crate::names::public_names;
use crate::paths::{Break, Via};
use crate::rule_id::RuleId;
use crate::rule_id::Severity;

/// Colour of a working path through an endpoint.
const ENDPOINT_OK: &str = "#2e7d32";
/// Colour of a working path through a NAT or internet gateway.
const ROUTE_OK: &str = "#1565c0";
/// Colour of a working path a finding concerns.
const WARNED: &str = "#e65100";
/// Colour of a broken path.
const BROKEN: &str = "#c62828";

/// The map of one VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcMap {
    /// `vpc-…`, also the element id of the VPC's frame.
    pub vpc: String,
    /// Its `Name` tag.
    pub name: Option<String>,
    /// Its primary IPv4 CIDR.
    pub cidr: Option<String>,
    /// Availability zones by name, each with its subnets by id.
    pub azs: Vec<AzColumn>,
    /// Nodes on the VPC's edge, in drawing order: internet gateways, gateway endpoints, interface
    /// endpoints, then NAT gateways and route targets not drawn inside a subnet.
    pub edge_nodes: Vec<HopNode>,
    /// The dependencies the VPC's services need, by name.
    pub dependencies: Vec<String>,
    /// Every service × subnet × dependency path, by subnet, service and dependency.
    pub paths: Vec<PathEdge>,
    /// For each finding of this VPC (by [`Finding::key`]): the element id it is drawn at.
    pub anchors: BTreeMap<String, String>,
}

/// One availability zone column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzColumn {
    /// AZ name (`us-east-1a`).
    pub name: String,
    /// Its subnets, by id.
    pub subnets: Vec<SubnetNode>,
}

/// A subnet box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetNode {
    /// `subnet-…`, also its element id.
    pub id: String,
    /// Its `Name` tag.
    pub name: Option<String>,
    /// IPv4 CIDR.
    pub cidr: String,
    /// Its route table id, when it has one.
    pub route_table: Option<String>,
    /// The route table is the VPC's main one (no explicit association).
    pub main_route_table: bool,
    /// Short names of the in-scope services with tasks here.
    pub services: Vec<String>,
    /// NAT gateways living in this subnet.
    pub nat_gateways: Vec<HopNode>,
    /// Interface endpoints with an ENI in this subnet: `(endpoint id, service)`.
    pub endpoint_enis: Vec<(String, String)>,
}

impl SubnetNode {
    /// `subnet-… (name)`.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name})", self.id),
            None => self.id.clone(),
        }
    }

    /// The CIDR and route table in words.
    pub fn address(&self) -> String {
        let table = match (&self.route_table, self.main_route_table) {
            (Some(t), false) => format!("route table {t}"),
            (Some(t), true) => format!("main route table {t}"),
            (None, _) => "no route table".to_string(),
        };
        format!("{} · {table}", self.cidr)
    }
}

/// What a hop node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopKind {
    /// An internet gateway attached to the VPC.
    InternetGateway,
    /// A gateway endpoint (S3, DynamoDB).
    GatewayEndpoint,
    /// An interface endpoint (its ENIs are drawn in their subnets).
    InterfaceEndpoint,
    /// A NAT gateway.
    NatGateway,
    /// A route target the input lacks (a deleted NAT gateway, an unknown gateway).
    Missing,
    /// A target reachguard cannot see past (transit gateway, peering, …): assumed to work.
    Beyond,
}

impl HopKind {
    /// The kind in words, as drawn.
    pub fn as_str(self) -> &'static str {
        match self {
            HopKind::InternetGateway => "internet gateway",
            HopKind::GatewayEndpoint => "gateway endpoint",
            HopKind::InterfaceEndpoint => "interface endpoint",
            HopKind::NatGateway => "NAT gateway",
            HopKind::Missing => "missing target",
            HopKind::Beyond => "beyond the VPC",
        }
    }
}

/// A node a path passes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopNode {
    /// The resource id, also its element id.
    pub id: String,
    /// What it is.
    pub kind: HopKind,
    /// One line of detail (`s3`, `zonal, available`, `transit gateway`, …).
    pub detail: String,
}

/// How a path fares.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[strum(serialize_all = "lowercase")]
pub enum Verdict {
    /// Works, and no finding concerns it.
    Ok,
    /// Works, but a finding concerns it (billed NAT traffic, single-AZ NAT, an AZ gap, …).
    Warned,
    /// Broken (`unreachable-dependency`).
    Broken,
}

public_names!(Verdict, "verdict");

/// Where a broken path breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakAt {
    /// In the task subnet: its route table, its ACL, or the tasks' missing public IP.
    Subnet,
    /// At the hop: the endpoint, the NAT gateway, the internet gateway or the route's target.
    Hop,
}

/// One service × subnet × dependency path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEdge {
    /// Element id, unique in the document (`<vpc>-p<n>`).
    pub anchor: String,
    /// Short service name.
    pub service: String,
    /// Task subnet id.
    pub subnet: String,
    /// Dependency name.
    pub dependency: String,
    /// The node the traffic goes through (`None`: no route at all).
    pub hop: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Where it breaks, when broken.
    pub broken_at: Option<BreakAt>,
    /// The rules of the findings that concern this path, `unreachable-dependency` first.
    pub rules: Vec<RuleId>,
    /// The most severe of those findings.
    pub severity: Option<Severity>,
}

impl VpcMap {
    /// `vpc-… (name) · cidr`.
    pub fn title(&self) -> String {
        let mut title = self.vpc.clone();
        if let Some(name) = &self.name {
            title.push_str(&format!(" ({name})"));
        }
        if let Some(cidr) = &self.cidr {
            title.push_str(&format!(" · {cidr}"));
        }
        title
    }

    /// A hop node by id: on the VPC's edge or a NAT gateway inside a subnet.
    pub fn hop(&self, id: &str) -> Option<&HopNode> {
        self.edge_nodes
            .iter()
            .chain(
                self.azs
                    .iter()
                    .flat_map(|a| &a.subnets)
                    .flat_map(|s| &s.nat_gateways),
            )
            .find(|n| n.id == id)
    }

    /// The colour a path is drawn in: its verdict, and for working paths whether an endpoint
    /// (green) or a route through a NAT or internet gateway (blue) carries it.
    pub fn colour(&self, path: &PathEdge) -> &'static str {
        let hop = path.hop.as_deref().and_then(|id| self.hop(id));
        match (path.verdict, hop.map(|h| h.kind)) {
            (Verdict::Broken, _) => BROKEN,
            (Verdict::Warned, _) => WARNED,
            (Verdict::Ok, Some(HopKind::GatewayEndpoint | HopKind::InterfaceEndpoint)) => {
                ENDPOINT_OK
            }
            (Verdict::Ok, _) => ROUTE_OK,
        }
    }

    /// The element id of a dependency node.
    pub fn dependency_id(&self, dependency: &str) -> String {
        format!("{}-dep-{dependency}", self.vpc)
    }
}

impl PathEdge {
    /// The rule ids, comma-separated (empty when none).
    pub fn rules_text(&self) -> String {
        let rules: Vec<&str> = self.rules.iter().map(|r| r.as_str()).collect();
        rules.join(", ")
    }
}

/// The short name of a service ARN: the part after its last `/`.
pub fn short_service(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Builds the map of every VPC of the topology, by VPC id. `report` must come from the same
/// topology: its findings give paths their rule ids and anchor every finding on the map.
pub fn build(eval: &Evaluation<'_>, report: &Report) -> Vec<VpcMap> {
    let topology = eval.topology;
    let mut vpcs: Vec<&str> = topology.vpcs.iter().map(|v| v.id.as_str()).collect();
    vpcs.extend(topology.subnets.iter().map(|s| s.vpc.as_str()));
    let vpcs: BTreeSet<&str> = vpcs.into_iter().collect();
    let mut findings_of_vpc: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        findings_of_vpc
            .entry(finding.vpc.as_str())
            .or_default()
            .push(finding);
    }
    let mut subnets_of_vpc: BTreeMap<&str, Vec<&Subnet>> = BTreeMap::new();
    for subnet in &topology.subnets {
        subnets_of_vpc
            .entry(subnet.vpc.as_str())
            .or_default()
            .push(subnet);
    }
    vpcs.into_iter()
        .map(|vpc| {
            build_vpc(
                eval,
                vpc,
                subnets_of_vpc.get(vpc).map_or(&[][..], Vec::as_slice),
                findings_of_vpc.get(vpc).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect()
}

fn build_vpc(
    eval: &Evaluation<'_>,
    vpc: &str,
    subnets: &[&Subnet],
    findings: &[&Finding],
) -> VpcMap {
    let topology = eval.topology;
    let vpc_model = topology.vpc(vpc);
    let endpoints: Vec<_> = {
        let mut e: Vec<_> = topology
            .endpoints_in(vpc)
            .filter(|e| e.kind != EndpointKind::Other)
            .collect();
        e.sort_by(|a, b| (a.kind as u8, &a.id).cmp(&(b.kind as u8, &b.id)));
        e
    };
    let mut nats: Vec<_> = topology
        .nat_gateways
        .iter()
        .filter(|n| n.vpc == vpc)
        .collect();
    nats.sort_by(|a, b| a.id.cmp(&b.id));
    let subnet_ids: BTreeSet<&str> = subnets.iter().map(|s| s.id.as_str()).collect();

    let mut services_of_subnet: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for context in eval.services.iter().filter(|c| c.vpc == vpc) {
        for subnet in &context.subnets {
            services_of_subnet
                .entry(subnet.id.as_str())
                .or_default()
                .insert(short_service(&context.service.arn));
        }
    }

    let mut azs: BTreeMap<&str, Vec<SubnetNode>> = BTreeMap::new();
    let mut sorted_subnets = subnets.to_vec();
    sorted_subnets.sort_by(|a, b| a.id.cmp(&b.id));
    for subnet in sorted_subnets {
        let route_table = topology.route_table_of(subnet);
        azs.entry(subnet.az.as_str()).or_default().push(SubnetNode {
            id: subnet.id.clone(),
            name: subnet.tags.get("Name").map(str::to_string),
            cidr: subnet.cidr.to_string(),
            route_table: route_table.map(|t| t.id.clone()),
            main_route_table: route_table.is_some_and(|t| !t.subnets.contains(&subnet.id)),
            services: services_of_subnet
                .get(subnet.id.as_str())
                .map(|s| s.iter().map(|n| n.to_string()).collect())
                .unwrap_or_default(),
            nat_gateways: nats
                .iter()
                .filter(|n| !n.regional && n.subnet.as_deref() == Some(subnet.id.as_str()))
                .map(|n| nat_node(n))
                .collect(),
            endpoint_enis: endpoints
                .iter()
                .filter(|e| e.kind == EndpointKind::Interface && e.subnets.contains(&subnet.id))
                .map(|e| (e.id.clone(), e.service.clone()))
                .collect(),
        });
    }

    let mut edge_nodes: Vec<HopNode> = topology
        .internet_gateways
        .iter()
        .filter(|g| g.vpcs.iter().any(|v| v == vpc))
        .map(|g| HopNode {
            id: g.id.clone(),
            kind: HopKind::InternetGateway,
            detail: "attached".to_string(),
        })
        .collect();
    edge_nodes.sort_by(|a, b| a.id.cmp(&b.id));
    edge_nodes.extend(endpoints.iter().map(|e| HopNode {
        id: e.id.clone(),
        kind: if e.kind == EndpointKind::Gateway {
            HopKind::GatewayEndpoint
        } else {
            HopKind::InterfaceEndpoint
        },
        detail: if e.available {
            e.service.clone()
        } else {
            format!("{}, {}", e.service, e.state)
        },
    }));
    edge_nodes.extend(
        nats.iter()
            .filter(|n| n.regional || !n.subnet.as_deref().is_some_and(|s| subnet_ids.contains(s)))
            .map(|n| nat_node(n)),
    );

    let mut vpc_paths: Vec<&ServicePath<'_>> = eval.paths_in(vpc).collect();
    vpc_paths.sort_by(|a, b| {
        (
            &a.subnet.id,
            short_service(&eval.service_of(a).service.arn),
            &a.dependency,
        )
            .cmp(&(
                &b.subnet.id,
                short_service(&eval.service_of(b).service.arn),
                &b.dependency,
            ))
    });
    let mut dependencies = BTreeSet::new();
    let mut paths = Vec::with_capacity(vpc_paths.len());
    let mut anchors = BTreeMap::new();
    for (n, p) in vpc_paths.into_iter().enumerate() {
        dependencies.insert(p.dependency.clone());
        let hop = hop_of(topology, &p.path.via);
        if let Some(node) = &hop
            && !is_drawn(node.id.as_str(), &edge_nodes, &azs)
        {
            edge_nodes.push(node.clone());
        }
        let edge = path_edge(eval, p, format!("{vpc}-p{n}"), hop.map(|h| h.id), findings);
        for finding in findings.iter().filter(|f| concerns(f, eval, p)) {
            anchors
                .entry(finding.key())
                .or_insert_with(|| edge.anchor.clone());
        }
        paths.push(edge);
    }
    for finding in findings {
        anchors
            .entry(finding.key())
            .or_insert_with(|| node_anchor(finding, &edge_nodes, &azs, vpc));
    }
    VpcMap {
        vpc: vpc.to_string(),
        name: vpc_model.and_then(|v| v.tags.get("Name").map(str::to_string)),
        cidr: vpc_model.and_then(|v| v.cidr.map(|c| c.to_string())),
        azs: azs
            .into_iter()
            .map(|(name, subnets)| AzColumn {
                name: name.to_string(),
                subnets,
            })
            .collect(),
        edge_nodes,
        dependencies: dependencies.into_iter().collect(),
        paths,
        anchors,
    }
}

fn nat_node(nat: &crate::model::NatGateway) -> HopNode {
    let mode = if nat.regional { "regional" } else { "zonal" };
    let connectivity = if nat.public { "" } else { ", private" };
    HopNode {
        id: nat.id.clone(),
        kind: HopKind::NatGateway,
        detail: format!("{mode}{connectivity}, {}", nat.state),
    }
}

/// True when a node with `id` is already drawn on the edge or inside a subnet.
fn is_drawn(id: &str, edge_nodes: &[HopNode], azs: &BTreeMap<&str, Vec<SubnetNode>>) -> bool {
    edge_nodes.iter().any(|n| n.id == id)
        || azs
            .values()
            .flatten()
            .any(|s| s.nat_gateways.iter().any(|n| n.id == id))
}

/// The node a path goes through, as a node to draw when it is not drawn yet.
fn hop_of(topology: &Topology, via: &Via<'_>) -> Option<HopNode> {
    let node = |id: &str, kind, detail: &str| HopNode {
        id: id.to_string(),
        kind,
        detail: detail.to_string(),
    };
    match via {
        Via::GatewayEndpoint(e) => Some(node(&e.id, HopKind::GatewayEndpoint, &e.service)),
        Via::InterfaceEndpoint(e) => Some(node(&e.id, HopKind::InterfaceEndpoint, &e.service)),
        Via::DefaultRoute(route) => Some(match &route.target {
            RouteTarget::NatGateway(id) => match topology.nat_gateway(id) {
                Some(nat) => nat_node(nat),
                None => node(id, HopKind::Missing, "NAT gateway not in the input"),
            },
            RouteTarget::InternetGateway(id) if topology.internet_gateway(id).is_some() => {
                node(id, HopKind::InternetGateway, "attached")
            }
            RouteTarget::InternetGateway(id) => {
                node(id, HopKind::Missing, "internet gateway not in the input")
            }
            RouteTarget::Beyond { kind, id } => node(id, HopKind::Beyond, kind),
            RouteTarget::Local | RouteTarget::GatewayEndpoint(_) | RouteTarget::EgressOnly(_) => {
                node(route.target.id(), HopKind::Missing, "carries no IPv4 out")
            }
            RouteTarget::Unknown => node("no-target", HopKind::Missing, "route without target"),
        }),
        Via::Nothing => None,
    }
}

/// Where a break sits on the drawn path.
fn break_at(broken: &Break<'_>, task_subnet: &Subnet) -> BreakAt {
    match broken {
        Break::NoRouteTable | Break::NoDefaultRoute | Break::IgwWithoutPublicIp(_) => {
            BreakAt::Subnet
        }
        Break::Acl(block) if block.subnet.id == task_subnet.id => BreakAt::Subnet,
        Break::Acl(_)
        | Break::Blackhole(_)
        | Break::NoIpv4Target(_)
        | Break::NatMissing(_)
        | Break::NatUnavailable(_)
        | Break::NatPrivate(_)
        | Break::NatWithoutInternet(_)
        | Break::IgwNotAttached(_)
        | Break::PolicyBlocksEcrLayers(_)
        | Break::EndpointWithoutSubnets(_)
        | Break::SecurityGroup(_) => BreakAt::Hop,
    }
}

fn path_edge(
    eval: &Evaluation<'_>,
    p: &ServicePath<'_>,
    anchor: String,
    hop: Option<String>,
    findings: &[&Finding],
) -> PathEdge {
    let concerning: Vec<&&Finding> = findings.iter().filter(|f| concerns(f, eval, p)).collect();
    let mut rules: Vec<RuleId> = Vec::new();
    if !p.path.works() {
        rules.push(RuleId::UnreachableDependency);
    }
    for finding in &concerning {
        if !rules.contains(&finding.rule) {
            rules.push(finding.rule);
        }
    }
    let verdict = if !p.path.works() {
        Verdict::Broken
    } else if concerning.is_empty() {
        Verdict::Ok
    } else {
        Verdict::Warned
    };
    PathEdge {
        anchor,
        service: short_service(&eval.service_of(p).service.arn).to_string(),
        subnet: p.subnet.id.clone(),
        dependency: p.dependency.clone(),
        hop,
        verdict,
        broken_at: p.path.broken.map(|b| break_at(&b, p.subnet)),
        rules,
        severity: concerning.iter().map(|f| f.severity).min(),
    }
}

/// True when a finding is about this path: it names at least one of the path's resources
/// (subnet, NAT gateway, endpoint, route table) and every path field it names matches (a route
/// destination only matches a path that takes that route). The AZ is not compared: rules use it
/// for different things (the NAT's AZ, the AZ an endpoint lacks).
fn concerns(finding: &Finding, eval: &Evaluation<'_>, p: &ServicePath<'_>) -> bool {
    let (endpoint, nat, destination) = match p.path.via {
        Via::GatewayEndpoint(e) | Via::InterfaceEndpoint(e) => (Some(e.id.as_str()), None, None),
        Via::DefaultRoute(route) => match &route.target {
            RouteTarget::NatGateway(id) => {
                (None, Some(id.as_str()), Some(route.destination.as_str()))
            }
            _ => (None, None, Some(route.destination.as_str())),
        },
        Via::Nothing => (None, None, None),
    };
    let route_table = p.path.route_table.map(|t| t.id.as_str());
    let service = eval.service_of(p).service.arn.as_str();
    let matches = |wanted: &Option<String>, actual: Option<&str>| {
        wanted.as_deref().is_none_or(|w| Some(w) == actual)
    };
    let names_a_resource = finding.subnet.is_some()
        || finding.endpoint.is_some()
        || finding.nat_gateway.is_some()
        || finding.route_table.is_some();
    names_a_resource
        && matches(&finding.service, Some(service))
        && matches(&finding.subnet, Some(&p.subnet.id))
        && matches(&finding.dependency, Some(&p.dependency))
        && matches(&finding.endpoint, endpoint)
        && matches(&finding.nat_gateway, nat)
        && matches(&finding.route_table, route_table)
        && matches(&finding.destination, destination)
}

/// The element a finding on no path is drawn at: its endpoint, NAT gateway or subnet when
/// drawn, else the VPC.
fn node_anchor(
    finding: &Finding,
    edge_nodes: &[HopNode],
    azs: &BTreeMap<&str, Vec<SubnetNode>>,
    vpc: &str,
) -> String {
    [&finding.endpoint, &finding.nat_gateway, &finding.subnet]
        .into_iter()
        .flatten()
        .find(|id| is_drawn(id, edge_nodes, azs) || azs.values().flatten().any(|s| &s.id == *id))
        .cloned()
        .unwrap_or_else(|| vpc.to_string())
}

/// Escapes text for XML and HTML content and attribute values.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
