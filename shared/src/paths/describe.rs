//! Paths and their breaks in words, for findings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::judge::ecr_layer_bucket;
use super::{AclBlock, Break, Origin, Path, Via};
use crate::model::{EndpointKind, RouteTarget, Topology};

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

impl<'t> Path<'t> {
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
                if let RouteTarget::NatGateway(id) = &r.target
                    && let Some(nat) = topology.nat_gateway(id)
                {
                    let mode = if nat.regional { "regional" } else { "zonal" };
                    steps.push(format!(
                        "{} is a {mode} NAT gateway ({})",
                        nat.id, nat.state
                    ));
                }
                if let RouteTarget::Beyond { kind, id } = &r.target {
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
