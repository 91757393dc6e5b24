//! Whether a captured path works: endpoint policy, security groups, NAT/IGW and network ACLs.

use super::{AclBlock, Break, Origin};
use crate::model::{
    AclEntry, Endpoint, NatGateway, NetworkAcl, Route, RouteTable, RouteTarget, Subnet, Topology,
};
use crate::net::{Ipv4Cidr, Ports};

/// The ECR layer bucket object ARN pattern for a region (in the region's partition:
/// `arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket/*` in Beijing).
pub fn ecr_layer_bucket(region: &str) -> String {
    let partition = crate::partition::of_region(region);
    format!("arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*")
}

/// True when a gateway endpoint's policy allows the ECR layer download in `region`.
pub fn allows_ecr_layers(endpoint: &Endpoint, region: &str) -> bool {
    endpoint
        .policy
        .as_ref()
        .is_none_or(|p| p.allows("s3:GetObject", &ecr_layer_bucket(region)))
}

pub(super) fn gateway_endpoint_break<'t>(
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

pub(super) fn interface_endpoint_break<'t>(
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

pub(super) fn default_route_break<'t>(
    topology: &'t Topology,
    origin: Origin<'t>,
    route: &'t Route,
) -> Option<Break<'t>> {
    if route.blackhole {
        return Some(Break::Blackhole(route));
    }
    match &route.target {
        RouteTarget::NatGateway(id) => match topology.nat_gateway(id) {
            None => Some(Break::NatMissing(id)),
            Some(nat) => nat_break(topology, nat),
        },
        RouteTarget::InternetGateway(id) => {
            if !igw_attached(topology, id, &origin.subnet.vpc) {
                Some(Break::IgwNotAttached(id))
            } else if !origin.public_ip {
                Some(Break::IgwWithoutPublicIp(id))
            } else {
                None
            }
        }
        RouteTarget::Beyond { .. } => None,
        RouteTarget::Local
        | RouteTarget::GatewayEndpoint(_)
        | RouteTarget::EgressOnly(_)
        | RouteTarget::Unknown => Some(Break::NoIpv4Target(route)),
    }
}

fn igw_attached(topology: &Topology, igw: &str, vpc: &str) -> bool {
    topology
        .internet_gateway(igw)
        .is_some_and(|g| g.vpcs.iter().any(|v| v == vpc))
}

/// Why a NAT gateway does not give internet access (the default route's NAT hop), or `None` when it works.
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
                && matches!(&r.target, RouteTarget::InternetGateway(igw) if igw_attached(topology, igw, &nat.vpc))
        });
    (!own_route_works).then_some(Break::NatWithoutInternet(nat))
}

/// The task subnet's ACL for traffic to anything outside the VPC (peer `0.0.0.0/0`).
pub(super) fn acl_break_outside<'t>(
    topology: &'t Topology,
    subnet: &'t Subnet,
) -> Option<Break<'t>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::EndpointPolicy;

    /// The documented ECR statement is written in the region's partition; a commercial ARN does
    /// not name the layer bucket of a China or GovCloud region.
    #[test]
    fn ecr_layer_bucket_is_in_the_region_partition() {
        let allowing = |arn: &str| {
            EndpointPolicy::parse(&format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{arn}"}}}}"#
            ))
            .expect("a policy")
        };
        for (region, resource, allowed) in [
            (
                "us-east-1",
                "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
                true,
            ),
            (
                "cn-north-1",
                "arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket/*",
                true,
            ),
            (
                "cn-north-1",
                "arn:aws:s3:::prod-cn-north-1-starport-layer-bucket/*",
                false,
            ),
            (
                "us-gov-west-1",
                "arn:aws-us-gov:s3:::prod-us-gov-west-1-starport-layer-bucket/*",
                true,
            ),
        ] {
            assert_eq!(
                allowing(resource).allows("s3:GetObject", &ecr_layer_bucket(region)),
                allowed,
                "{region}: {resource}"
            );
        }
    }

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
