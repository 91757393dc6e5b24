//! How a subnet reaches a dependency (RULES.md §2): which path captures the traffic (gateway
//! endpoint, interface endpoint with private DNS, else the default route), and whether that path
//! works (endpoint policy, security groups, NAT/IGW, network ACLs). Pure: reads a [`Topology`].
//!
//! Evaluation returns a compact [`Path`] of references; text is only built ([`Path::report`])
//! for the paths that end up in a finding.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    AclEntry, Endpoint, EndpointKind, NatGateway, NetworkAcl, Route, RouteTable, Subnet, Target,
    Topology,
};
use crate::net::{Ipv4Cidr, Ports};

/// Where the traffic starts: a task subnet and what the tasks bring.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'t> {
    /// The task subnet.
    pub subnet: &'t Subnet,
    /// Tasks get public IPs (`assignPublicIp: ENABLED`).
    pub public_ip: bool,
    /// The tasks' security groups (empty for a spare subnet: CIDR rules only).
    pub security_groups: &'t [String],
}

/// What captured the traffic.
#[derive(Debug, Clone, Copy)]
pub enum Via<'t> {
    /// A gateway endpoint associated with the subnet's route table.
    GatewayEndpoint(&'t Endpoint),
    /// An interface endpoint with effective private DNS.
    InterfaceEndpoint(&'t Endpoint),
    /// The route table's `0.0.0.0/0` route.
    DefaultRoute(&'t Route),
    /// Nothing: no route table or no default route.
    Nothing,
}

/// Where a path broke.
#[derive(Debug, Clone, Copy)]
pub enum Break<'t> {
    /// The subnet has no association and the VPC no main route table.
    NoRouteTable,
    /// No `0.0.0.0/0` route and nothing captured the traffic.
    NoDefaultRoute,
    /// The default route is a blackhole.
    Blackhole(&'t Route),
    /// The default route's target carries no IPv4 (egress-only gateway, no target).
    NoIpv4Target(&'t Route),
    /// The route names a NAT gateway the input lacks.
    NatMissing(&'t str),
    /// The NAT gateway is not `available`.
    NatUnavailable(&'t NatGateway),
    /// The NAT gateway is private: it cannot reach public AWS endpoints.
    NatPrivate(&'t NatGateway),
    /// A zonal NAT gateway whose own subnet has no working route to an attached IGW.
    NatWithoutInternet(&'t NatGateway),
    /// Internet gateway route but the tasks have no public IP.
    IgwWithoutPublicIp(&'t str),
    /// The internet gateway is missing or not attached to the VPC.
    IgwNotAttached(&'t str),
    /// The gateway endpoint's policy does not allow the ECR layer download.
    PolicyBlocksEcrLayers(&'t Endpoint),
    /// The interface endpoint has no subnet at all.
    EndpointWithoutSubnets(&'t Endpoint),
    /// No security group of the interface endpoint admits TCP 443 from the tasks.
    SecurityGroup(&'t Endpoint),
    /// A network ACL denies part of the exchange.
    Acl(AclBlock<'t>),
}

/// A network ACL decision that broke a path.
#[derive(Debug, Clone, Copy)]
pub struct AclBlock<'t> {
    /// The ACL.
    pub acl: &'t NetworkAcl,
    /// The subnet it is attached to (task subnet or endpoint subnet).
    pub subnet: &'t Subnet,
    /// Outbound (true) or inbound.
    pub outbound: bool,
    /// Ports tested.
    pub ports: Ports,
    /// The other side.
    pub peer: Ipv4Cidr,
    /// The deny entry that matched; `None` when no entry matched (the implicit final deny).
    pub rule_number: Option<i64>,
}

/// The path a subnet's traffic to one dependency takes, and whether it works.
#[derive(Debug, Clone, Copy)]
pub struct Path<'t> {
    /// The subnet's route table.
    pub route_table: Option<&'t RouteTable>,
    /// What captured the traffic.
    pub via: Via<'t>,
    /// `None` when the path works.
    pub broken: Option<Break<'t>>,
}

/// A path in words, for findings: the steps tried and where it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PathReport {
    /// The capturing path, e.g. `default route 0.0.0.0/0 -> nat-0abc`.
    pub via: String,
    /// Steps tried, in order.
    pub steps: Vec<String>,
    /// Where it broke (`null` when the path works).
    pub broken_at: Option<String>,
}

/// The ECR layer bucket object ARN pattern for a region.
pub fn ecr_layer_bucket(region: &str) -> String {
    format!("arn:aws:s3:::prod-{region}-starport-layer-bucket/*")
}

/// Evaluates the path from `origin` to `dependency`. `ecr_layers`: the dependency is `s3` for the
/// ECR layer download (no interface endpoint counts; the gateway endpoint policy must allow it).
pub fn evaluate<'t>(
    topology: &'t Topology,
    origin: Origin<'t>,
    dependency: &str,
    ecr_layers: bool,
) -> Path<'t> {
    let Some(route_table) = topology.route_table_of(origin.subnet) else {
        return Path {
            route_table: None,
            via: Via::Nothing,
            broken: Some(Break::NoRouteTable),
        };
    };
    let vpc = origin.subnet.vpc.as_str();
    let path = |via, broken| Path {
        route_table: Some(route_table),
        via,
        broken,
    };
    let layers = ecr_layers && dependency == "s3";
    if let Some(endpoint) = capturing_gateway_endpoint(topology, vpc, route_table, dependency) {
        let broken = gateway_endpoint_break(topology, endpoint, layers)
            .or_else(|| acl_break_outside(topology, origin.subnet));
        return path(Via::GatewayEndpoint(endpoint), broken);
    }
    if !layers && let Some(endpoint) = capturing_interface_endpoint(topology, vpc, dependency) {
        let broken = interface_endpoint_break(topology, origin, endpoint);
        return path(Via::InterfaceEndpoint(endpoint), broken);
    }
    let Some(route) = route_table.default_route() else {
        return path(Via::Nothing, Some(Break::NoDefaultRoute));
    };
    let broken = default_route_break(topology, origin, route)
        .or_else(|| acl_break_outside(topology, origin.subnet));
    path(Via::DefaultRoute(route), broken)
}

/// The available gateway endpoint for `dependency` associated with `route_table`, if any.
pub fn capturing_gateway_endpoint<'t>(
    topology: &'t Topology,
    vpc: &str,
    route_table: &RouteTable,
    dependency: &str,
) -> Option<&'t Endpoint> {
    topology
        .available_endpoints(vpc, EndpointKind::Gateway, dependency)
        .find(|e| e.route_tables.contains(&route_table.id))
}

/// The available interface endpoint for `dependency` whose private DNS is effective in the VPC.
pub fn capturing_interface_endpoint<'t>(
    topology: &'t Topology,
    vpc: &str,
    dependency: &str,
) -> Option<&'t Endpoint> {
    let dns = topology
        .vpc(vpc)
        .is_none_or(|v| v.dns_support && v.dns_hostnames);
    if !dns {
        return None;
    }
    topology
        .available_endpoints(vpc, EndpointKind::Interface, dependency)
        .find(|e| e.private_dns)
}

/// True when a gateway endpoint's policy allows the ECR layer download in `region`.
pub fn allows_ecr_layers(endpoint: &Endpoint, region: &str) -> bool {
    endpoint
        .policy
        .as_ref()
        .is_none_or(|p| p.allows("s3:GetObject", &ecr_layer_bucket(region)))
}

fn gateway_endpoint_break<'t>(
    topology: &Topology,
    endpoint: &'t Endpoint,
    layers: bool,
) -> Option<Break<'t>> {
    (layers && !allows_ecr_layers(endpoint, &topology.region))
        .then_some(Break::PolicyBlocksEcrLayers(endpoint))
}

/// True when one of the endpoint's security groups admits TCP 443 from the origin.
pub fn security_groups_admit(topology: &Topology, origin: Origin<'_>, endpoint: &Endpoint) -> bool {
    endpoint
        .security_groups
        .iter()
        .filter_map(|id| topology.security_group(id))
        .flat_map(|g| &g.ingress)
        .filter(|rule| rule.ports.is_some_and(|p| p.covers(Ports::HTTPS)))
        .any(|rule| {
            rule.cidrs.iter().any(|c| c.contains(&origin.subnet.cidr))
                || rule
                    .groups
                    .iter()
                    .any(|g| origin.security_groups.contains(g))
        })
}

fn interface_endpoint_break<'t>(
    topology: &'t Topology,
    origin: Origin<'t>,
    endpoint: &'t Endpoint,
) -> Option<Break<'t>> {
    if !security_groups_admit(topology, origin, endpoint) {
        return Some(Break::SecurityGroup(endpoint));
    }
    if endpoint.subnets.is_empty() {
        return Some(Break::EndpointWithoutSubnets(endpoint));
    }
    let subnets: Vec<&Subnet> = endpoint
        .subnets
        .iter()
        .filter_map(|s| topology.subnet(s))
        .collect();
    let same_az: Vec<&Subnet> = subnets
        .iter()
        .copied()
        .filter(|s| s.az == origin.subnet.az)
        .collect();
    let candidates = if same_az.is_empty() { subnets } else { same_az };
    let mut first_break = None;
    for endpoint_subnet in candidates {
        match acl_break_between(topology, origin.subnet, endpoint_subnet) {
            None => return None,
            Some(b) => {
                first_break.get_or_insert(b);
            }
        }
    }
    first_break
}

fn default_route_break<'t>(
    topology: &'t Topology,
    origin: Origin<'t>,
    route: &'t Route,
) -> Option<Break<'t>> {
    if route.blackhole {
        return Some(Break::Blackhole(route));
    }
    match &route.target {
        Target::NatGateway(id) => match topology.nat_gateway(id) {
            None => Some(Break::NatMissing(id)),
            Some(nat) => nat_break(topology, nat),
        },
        Target::InternetGateway(id) => {
            if !igw_attached(topology, id, &origin.subnet.vpc) {
                Some(Break::IgwNotAttached(id))
            } else if !origin.public_ip {
                Some(Break::IgwWithoutPublicIp(id))
            } else {
                None
            }
        }
        Target::Beyond { .. } => None,
        Target::Local | Target::GatewayEndpoint(_) | Target::EgressOnly(_) | Target::Unknown => {
            Some(Break::NoIpv4Target(route))
        }
    }
}

fn igw_attached(topology: &Topology, igw: &str, vpc: &str) -> bool {
    topology
        .internet_gateway(igw)
        .is_some_and(|g| g.vpcs.iter().any(|v| v == vpc))
}

/// Why a NAT gateway does not give internet access (RULES.md §2.3), or `None` when it works.
pub fn nat_break<'t>(topology: &Topology, nat: &'t NatGateway) -> Option<Break<'t>> {
    if !nat.available {
        return Some(Break::NatUnavailable(nat));
    }
    if !nat.public {
        return Some(Break::NatPrivate(nat));
    }
    if nat.regional {
        return None;
    }
    let own_route_works = nat
        .subnet
        .as_deref()
        .and_then(|s| topology.subnet(s))
        .and_then(|s| topology.route_table_of(s))
        .and_then(RouteTable::default_route)
        .is_some_and(|r| {
            !r.blackhole
                && matches!(&r.target, Target::InternetGateway(igw) if igw_attached(topology, igw, &nat.vpc))
        });
    (!own_route_works).then_some(Break::NatWithoutInternet(nat))
}

/// The task subnet's ACL for traffic to anything outside the VPC (peer `0.0.0.0/0`).
fn acl_break_outside<'t>(topology: &'t Topology, subnet: &'t Subnet) -> Option<Break<'t>> {
    let acl = topology.network_acl_of(subnet)?;
    acl_exchange_break(acl, subnet, Ipv4Cidr::ANYWHERE, true)
}

/// Both subnets' ACLs for task → interface endpoint ENI traffic (none within one subnet).
fn acl_break_between<'t>(
    topology: &'t Topology,
    task: &'t Subnet,
    endpoint: &'t Subnet,
) -> Option<Break<'t>> {
    if task.id == endpoint.id {
        return None;
    }
    let task_side = topology
        .network_acl_of(task)
        .and_then(|acl| acl_exchange_break(acl, task, endpoint.cidr, true));
    task_side.or_else(|| {
        topology
            .network_acl_of(endpoint)
            .and_then(|acl| acl_exchange_break(acl, endpoint, task.cidr, false))
    })
}

/// Checks an HTTPS exchange through one ACL: the client side (`client`: out 443, in ephemeral)
/// or the server side (in 443, out ephemeral).
fn acl_exchange_break<'t>(
    acl: &'t NetworkAcl,
    subnet: &'t Subnet,
    peer: Ipv4Cidr,
    client: bool,
) -> Option<Break<'t>> {
    let checks = [
        (
            true,
            if client {
                Ports::HTTPS
            } else {
                Ports::EPHEMERAL
            },
        ),
        (
            false,
            if client {
                Ports::EPHEMERAL
            } else {
                Ports::HTTPS
            },
        ),
    ];
    checks.into_iter().find_map(|(outbound, ports)| {
        let entries = if outbound {
            &acl.outbound
        } else {
            &acl.inbound
        };
        acl_denies(entries, peer, ports).map(|rule_number| {
            Break::Acl(AclBlock {
                acl,
                subnet,
                outbound,
                ports,
                peer,
                rule_number,
            })
        })
    })
}

/// Evaluates entries in rule-number order for every port of `ports`: first match wins, the end
/// denies. Returns `None` when all ports are allowed, else the deciding deny rule (`None` inside:
/// no entry matched).
fn acl_denies(entries: &[AclEntry], peer: Ipv4Cidr, ports: Ports) -> Option<Option<i64>> {
    let mut undecided = vec![ports];
    for entry in entries {
        let (Some(entry_ports), Some(cidr)) = (entry.ports, entry.cidr) else {
            continue;
        };
        if !cidr.contains(&peer) {
            continue;
        }
        let mut remaining = Vec::with_capacity(undecided.len() + 1);
        for range in undecided {
            let (lo, hi) = (
                range.from.max(entry_ports.from),
                range.to.min(entry_ports.to),
            );
            if lo > hi {
                remaining.push(range);
                continue;
            }
            if !entry.allow {
                return Some(Some(entry.rule_number));
            }
            if range.from < lo {
                remaining.push(Ports {
                    from: range.from,
                    to: lo - 1,
                });
            }
            if hi < range.to {
                remaining.push(Ports {
                    from: hi + 1,
                    to: range.to,
                });
            }
        }
        undecided = remaining;
        if undecided.is_empty() {
            return None;
        }
    }
    Some(None)
}

impl<'t> Path<'t> {
    /// True when the path works.
    pub fn works(&self) -> bool {
        self.broken.is_none()
    }

    /// The path in words.
    pub fn report(&self, topology: &Topology, origin: Origin<'_>, dependency: &str) -> PathReport {
        let subnet = origin.subnet;
        let mut steps = vec![match self.route_table {
            Some(rt) if rt.subnets.contains(&subnet.id) => {
                format!(
                    "{} ({}, {}) uses route table {}",
                    subnet.id, subnet.az, subnet.cidr, rt.id
                )
            }
            Some(rt) => format!(
                "{} ({}, {}) uses the main route table {}",
                subnet.id, subnet.az, subnet.cidr, rt.id
            ),
            None => format!(
                "{} ({}, {}) has no route table",
                subnet.id, subnet.az, subnet.cidr
            ),
        }];
        let via = match self.via {
            Via::GatewayEndpoint(e) => {
                steps.push(format!(
                    "gateway endpoint {} ({}) is associated with it",
                    e.id, e.service
                ));
                format!("gateway endpoint {}", e.id)
            }
            Via::InterfaceEndpoint(e) => {
                steps.push(format!(
                    "interface endpoint {} ({}) captures {dependency} through private DNS",
                    e.id, e.service
                ));
                format!("interface endpoint {}", e.id)
            }
            Via::DefaultRoute(r) => {
                steps.push(format!(
                    "{dependency} uses the default route 0.0.0.0/0 -> {}",
                    r.target.id()
                ));
                if let Target::NatGateway(id) = &r.target
                    && let Some(nat) = topology.nat_gateway(id)
                {
                    let mode = if nat.regional { "regional" } else { "zonal" };
                    steps.push(format!(
                        "{} is a {mode} NAT gateway ({})",
                        nat.id, nat.state
                    ));
                }
                if let Target::Beyond { kind, id } = &r.target {
                    steps.push(format!(
                        "{kind} {id}: assumed to work (beyond what the VPC shows)"
                    ));
                }
                format!("default route 0.0.0.0/0 -> {}", r.target.id())
            }
            Via::Nothing => "no path".to_string(),
        };
        let broken_at = self
            .broken
            .map(|b| b.describe(topology, origin, dependency));
        if broken_at.is_none() {
            steps.push("every check on the path passes".to_string());
        }
        PathReport {
            via,
            steps,
            broken_at,
        }
    }
}

/// Why an available interface endpoint for `dependency` captures nothing, if there is one.
fn idle_interface_endpoint(topology: &Topology, vpc: &str, dependency: &str) -> Option<String> {
    let endpoint = topology
        .available_endpoints(vpc, EndpointKind::Interface, dependency)
        .next()?;
    let why = if !endpoint.private_dns {
        "its private DNS is disabled".to_string()
    } else {
        format!("{vpc} has enableDnsSupport or enableDnsHostnames off")
    };
    Some(format!(
        "interface endpoint {} ({dependency}) exists but captures nothing: {why}",
        endpoint.id
    ))
}

impl Break<'_> {
    /// Where the path broke, in words.
    pub fn describe(&self, topology: &Topology, origin: Origin<'_>, dependency: &str) -> String {
        let subnet = origin.subnet;
        match self {
            Break::NoRouteTable => format!(
                "{} has no route table association and {} has no main route table",
                subnet.id, subnet.vpc
            ),
            Break::NoDefaultRoute => {
                match idle_interface_endpoint(topology, &subnet.vpc, dependency) {
                    Some(note) => format!("{note}, and the route table has no 0.0.0.0/0 route"),
                    None => format!(
                        "no endpoint captures {dependency} and the route table has no 0.0.0.0/0 route"
                    ),
                }
            }
            Break::Blackhole(r) => format!(
                "the 0.0.0.0/0 route to {} is a blackhole (its target no longer exists)",
                r.target.id()
            ),
            Break::NoIpv4Target(r) => {
                format!(
                    "the 0.0.0.0/0 route to {} carries no IPv4 traffic out",
                    r.target.id()
                )
            }
            Break::NatMissing(id) => format!("NAT gateway {id} is not in the input"),
            Break::NatUnavailable(n) => {
                format!("NAT gateway {} is {}, not available", n.id, n.state)
            }
            Break::NatPrivate(n) => format!(
                "NAT gateway {} is private (ConnectivityType private) and cannot reach public AWS endpoints",
                n.id
            ),
            Break::NatWithoutInternet(n) => format!(
                "zonal NAT gateway {}'s subnet {} has no active 0.0.0.0/0 route to an internet gateway attached to {}",
                n.id,
                n.subnet.as_deref().unwrap_or("(none)"),
                n.vpc
            ),
            Break::IgwWithoutPublicIp(id) => format!(
                "the default route goes to internet gateway {id}, but the tasks get no public IP (assignPublicIp is not ENABLED)"
            ),
            Break::IgwNotAttached(id) => {
                format!("internet gateway {id} is not attached to {}", subnet.vpc)
            }
            Break::PolicyBlocksEcrLayers(e) => format!(
                "gateway endpoint {}'s policy does not allow s3:GetObject on {}",
                e.id,
                ecr_layer_bucket(&topology.region)
            ),
            Break::EndpointWithoutSubnets(e) => {
                format!("interface endpoint {} has no subnets", e.id)
            }
            Break::SecurityGroup(e) => {
                let from = if origin.security_groups.is_empty() {
                    format!("{} ({})", subnet.id, subnet.cidr)
                } else {
                    format!(
                        "{} ({}) or the tasks' security groups {}",
                        subnet.id,
                        subnet.cidr,
                        origin.security_groups.join(", ")
                    )
                };
                format!(
                    "no security group of interface endpoint {} ({}) admits TCP 443 from {from}",
                    e.id,
                    e.security_groups.join(", ")
                )
            }
            Break::Acl(block) => block.describe(),
        }
    }
}

impl AclBlock<'_> {
    /// The denied direction, ports and peer, with the deciding entry.
    pub fn describe(&self) -> String {
        let (direction, preposition) = if self.outbound {
            ("outbound", "to")
        } else {
            ("inbound", "from")
        };
        let by = match self.rule_number {
            Some(32767) | None => "no entry allows it before the final * deny".to_string(),
            Some(n) => format!("entry {n} denies it"),
        };
        format!(
            "network ACL {} of {} denies {direction} TCP {} {preposition} {} ({by})",
            self.acl.id, self.subnet.id, self.ports, self.peer
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule_number: i64, allow: bool, ports: Option<(u16, u16)>, cidr: &str) -> AclEntry {
        AclEntry {
            rule_number,
            allow,
            ports: ports.map(|(from, to)| Ports { from, to }),
            cidr: Some(cidr.parse().unwrap()),
        }
    }

    #[test]
    fn acl_evaluation_is_ordered_first_match_and_covers_every_port() {
        let anywhere = Ipv4Cidr::ANYWHERE;
        let all = Some((0, 65535));
        type Case = (&'static str, Vec<AclEntry>, Ports, Option<Option<i64>>);
        let cases: [Case; 8] = [
            (
                "allow all",
                vec![entry(100, true, all, "0.0.0.0/0")],
                Ports::EPHEMERAL,
                None,
            ),
            ("no entries: final deny", vec![], Ports::HTTPS, Some(None)),
            (
                "deny first wins",
                vec![
                    entry(90, false, Some((443, 443)), "0.0.0.0/0"),
                    entry(100, true, all, "0.0.0.0/0"),
                ],
                Ports::HTTPS,
                Some(Some(90)),
            ),
            (
                "allow 1024-65535 covers ephemeral",
                vec![entry(100, true, Some((1024, 65535)), "0.0.0.0/0")],
                Ports::EPHEMERAL,
                None,
            ),
            (
                "half the ephemeral range",
                vec![entry(100, true, Some((32768, 40000)), "0.0.0.0/0")],
                Ports::EPHEMERAL,
                Some(None),
            ),
            (
                "deny inside the range after a partial allow",
                vec![
                    entry(100, true, Some((32768, 40000)), "0.0.0.0/0"),
                    entry(110, false, Some((40001, 40001)), "0.0.0.0/0"),
                    entry(120, true, all, "0.0.0.0/0"),
                ],
                Ports::EPHEMERAL,
                Some(Some(110)),
            ),
            (
                "narrower CIDR does not match the peer",
                vec![entry(100, true, all, "10.0.0.0/8")],
                Ports::HTTPS,
                Some(None),
            ),
            (
                "non-TCP entries never match",
                vec![AclEntry {
                    rule_number: 100,
                    allow: true,
                    ports: None,
                    cidr: Some(anywhere),
                }],
                Ports::HTTPS,
                Some(None),
            ),
        ];
        for (case, entries, ports, expected) in cases {
            assert_eq!(acl_denies(&entries, anywhere, ports), expected, "{case}");
        }
    }
}
