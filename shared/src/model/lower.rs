//! The snapshot document validated and lowered to the model: states, route targets, ports and
//! CIDRs normalised; malformed members fail with their path, dangling references become warnings.

use rustc_hash::FxHashMap as HashMap;

use super::index::Index;
use super::{
    AclEntry, Endpoint, EndpointKind, Ingress, InternetGateway, Launch, NatGateway, NetworkAcl,
    Route, RouteTable, RouteTarget, SecurityGroup, Service, Subnet, Topology, Vpc,
};
use crate::error::SnapshotError;
use crate::nat_metrics::NatMetrics;
use crate::net::{Ipv4Cidr, Ports};
use crate::policy::EndpointPolicy;
use crate::snapshot::{self, Snapshot};
use crate::tags::Tags;

fn state_is(state: Option<&str>, wanted: &str) -> bool {
    state.is_some_and(|s| s.eq_ignore_ascii_case(wanted))
}

fn ec2_tags(tags: &[snapshot::Tag]) -> Tags {
    Tags::new(tags.iter().map(|t| (t.key.clone(), t.value.clone())))
}

fn cidr_at(text: &str, path: impl FnOnce() -> String) -> Result<Ipv4Cidr, SnapshotError> {
    text.parse().map_err(|reason| SnapshotError::Shape {
        path: path(),
        reason,
    })
}

/// The short service name of `com.amazonaws.<region>.<name>` (else the name unchanged).
pub fn short_service_name(service_name: &str) -> &str {
    service_name
        .strip_prefix("com.amazonaws.")
        .and_then(|rest| rest.split_once('.'))
        .map_or(service_name, |(_region, name)| name)
}

/// The region of an availability zone name (`us-east-1a` → `us-east-1`).
fn region_of_az(az: &str) -> &str {
    az.trim_end_matches(|c: char| c.is_ascii_lowercase())
}

impl Topology {
    /// Validates and indexes a snapshot. Fails on the first malformed member, naming its path;
    /// references to ids the snapshot lacks become [`Topology::warnings`].
    pub fn from_snapshot(doc: &Snapshot) -> Result<Topology, SnapshotError> {
        let attributes: HashMap<&str, &snapshot::VpcAttributes> = doc
            .vpc_attributes
            .iter()
            .map(|a| (a.vpc_id.as_str(), a))
            .collect();
        let vpcs = doc
            .vpcs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let attrs = attributes.get(v.vpc_id.as_str());
                let flag =
                    |get: fn(&snapshot::VpcAttributes) -> Option<snapshot::AttributeBoolean>| {
                        attrs.and_then(|a| get(a)).is_none_or(|b| b.value)
                    };
                Ok(Vpc {
                    id: v.vpc_id.clone(),
                    cidr: v
                        .cidr_block
                        .as_deref()
                        .map(|c| cidr_at(c, || format!("Vpcs[{i}].CidrBlock")))
                        .transpose()?,
                    dns_support: flag(|a| a.enable_dns_support),
                    dns_hostnames: flag(|a| a.enable_dns_hostnames),
                    tags: ec2_tags(&v.tags),
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        let subnets = doc
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Subnet {
                    id: s.subnet_id.clone(),
                    vpc: s.vpc_id.clone(),
                    cidr: cidr_at(&s.cidr_block, || format!("Subnets[{i}].CidrBlock"))?,
                    az: s.availability_zone.clone(),
                    tags: ec2_tags(&s.tags),
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        let route_tables = doc.route_tables.iter().map(route_table).collect();
        let endpoints = doc
            .vpc_endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| endpoint(i, e))
            .collect::<Result<_, _>>()?;
        let nat_gateways = doc.nat_gateways.iter().map(nat_gateway).collect();
        let internet_gateways = doc
            .internet_gateways
            .iter()
            .map(|g| InternetGateway {
                id: g.internet_gateway_id.clone(),
                vpcs: g
                    .attachments
                    .iter()
                    .filter(|a| {
                        a.state.is_none()
                            || state_is(a.state.as_deref(), "available")
                            || state_is(a.state.as_deref(), "attached")
                    })
                    .map(|a| a.vpc_id.clone())
                    .collect(),
            })
            .collect();
        let security_groups = doc
            .security_groups
            .iter()
            .enumerate()
            .map(|(i, g)| security_group(i, g))
            .collect::<Result<_, _>>()?;
        let network_acls = doc
            .network_acls
            .as_ref()
            .map(|acls| {
                acls.iter()
                    .enumerate()
                    .map(|(i, a)| network_acl(i, a))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let services = doc.services.iter().map(service).collect();
        let region = doc
            .region
            .clone()
            .or_else(|| {
                doc.subnets
                    .first()
                    .map(|s| region_of_az(&s.availability_zone).to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let mut topology = Topology {
            region,
            account: doc.account_id.clone(),
            vpcs,
            subnets,
            route_tables,
            endpoints,
            nat_gateways,
            internet_gateways,
            security_groups,
            network_acls,
            services,
            task_definitions: doc.task_definitions.clone(),
            warnings: Vec::new(),
            nat_metrics: doc
                .nat_gateway_metrics
                .as_ref()
                .map(NatMetrics::from_document)
                .transpose()?,
            index: Index::default(),
        };
        topology.reindex();
        topology.warnings = topology.dangling_references();
        Ok(topology)
    }

    fn dangling_references(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for service in self.services.iter().filter(|s| s.in_scope) {
            for subnet in service.subnets.iter().filter(|s| self.subnet(s).is_none()) {
                warnings.push(format!(
                    "service {} uses subnet {subnet}, which is not in the input: skipped",
                    service.arn
                ));
            }
            for group in service
                .security_groups
                .iter()
                .filter(|g| self.security_group(g).is_none())
            {
                warnings.push(format!(
                    "service {} uses security group {group}, which is not in the input: skipped",
                    service.arn
                ));
            }
        }
        for endpoint in self.endpoints.iter().filter(|e| e.available) {
            for group in endpoint
                .security_groups
                .iter()
                .filter(|g| self.security_group(g).is_none())
            {
                warnings.push(format!(
                    "endpoint {} uses security group {group}, which is not in the input: skipped",
                    endpoint.id
                ));
            }
            for subnet in endpoint.subnets.iter().filter(|s| self.subnet(s).is_none()) {
                warnings.push(format!(
                    "endpoint {} has subnet {subnet}, which is not in the input: its network ACL is not checked",
                    endpoint.id
                ));
            }
        }
        warnings
    }
}

fn route_table(t: &snapshot::RouteTable) -> RouteTable {
    let associated = |a: &&snapshot::RouteTableAssociation| {
        a.association_state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_none_or(|s| s.eq_ignore_ascii_case("associated"))
    };
    RouteTable {
        id: t.route_table_id.clone(),
        vpc: t.vpc_id.clone(),
        main: t.associations.iter().filter(associated).any(|a| a.main),
        subnets: t
            .associations
            .iter()
            .filter(associated)
            .filter_map(|a| a.subnet_id.clone())
            .collect(),
        routes: t.routes.iter().map(route).collect(),
        tags: ec2_tags(&t.tags),
    }
}

fn route(r: &snapshot::Route) -> Route {
    let beyond = |kind, id: &String| RouteTarget::Beyond {
        kind,
        id: id.clone(),
    };
    let target = if let Some(id) = &r.nat_gateway_id {
        RouteTarget::NatGateway(id.clone())
    } else if let Some(id) = &r.gateway_id {
        match id.split('-').next() {
            _ if id == "local" => RouteTarget::Local,
            Some("igw") => RouteTarget::InternetGateway(id.clone()),
            Some("vpce") => RouteTarget::GatewayEndpoint(id.clone()),
            Some("vgw") => beyond("virtual private gateway", id),
            _ => beyond("gateway", id),
        }
    } else if let Some(id) = &r.transit_gateway_id {
        beyond("transit gateway", id)
    } else if let Some(id) = &r.vpc_peering_connection_id {
        beyond("peering connection", id)
    } else if let Some(id) = &r.network_interface_id {
        beyond("network interface", id)
    } else if let Some(id) = &r.instance_id {
        beyond("instance", id)
    } else if let Some(id) = &r.local_gateway_id {
        beyond("local gateway", id)
    } else if let Some(id) = &r.carrier_gateway_id {
        beyond("carrier gateway", id)
    } else if let Some(id) = &r.core_network_arn {
        beyond("core network", id)
    } else if let Some(id) = &r.egress_only_internet_gateway_id {
        RouteTarget::EgressOnly(id.clone())
    } else {
        RouteTarget::Unknown
    };
    let destination = r
        .destination_cidr_block
        .clone()
        .or_else(|| r.destination_prefix_list_id.clone())
        .or_else(|| r.destination_ipv6_cidr_block.clone())
        .unwrap_or_default();
    Route {
        is_default: r.destination_cidr_block.as_deref() == Some("0.0.0.0/0"),
        destination,
        target,
        blackhole: state_is(r.state.as_deref(), "blackhole"),
    }
}

fn endpoint(i: usize, e: &snapshot::VpcEndpoint) -> Result<Endpoint, SnapshotError> {
    let kind = match e.vpc_endpoint_type.to_ascii_lowercase().as_str() {
        "gateway" => EndpointKind::Gateway,
        "interface" => EndpointKind::Interface,
        _ => EndpointKind::Other,
    };
    let policy = e
        .policy_document
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(EndpointPolicy::parse)
        .transpose()
        .map_err(|reason| SnapshotError::Shape {
            path: format!("VpcEndpoints[{i}].PolicyDocument"),
            reason,
        })?;
    Ok(Endpoint {
        id: e.vpc_endpoint_id.clone(),
        vpc: e.vpc_id.clone(),
        kind,
        service: short_service_name(&e.service_name).to_string(),
        service_name: e.service_name.clone(),
        available: state_is(e.state.as_deref(), "available"),
        state: e.state.clone().unwrap_or_default(),
        policy,
        route_tables: e.route_table_ids.clone(),
        subnets: e.subnet_ids.clone(),
        security_groups: e.groups.iter().map(|g| g.group_id.clone()).collect(),
        private_dns: e.private_dns_enabled.unwrap_or(false),
        tags: ec2_tags(&e.tags),
    })
}

fn nat_gateway(n: &snapshot::NatGateway) -> NatGateway {
    NatGateway {
        id: n.nat_gateway_id.clone(),
        vpc: n.vpc_id.clone(),
        subnet: n.subnet_id.clone(),
        available: state_is(n.state.as_deref(), "available"),
        state: n.state.clone().unwrap_or_default(),
        public: n.connectivity_type.is_none() || state_is(n.connectivity_type.as_deref(), "public"),
        regional: state_is(n.availability_mode.as_deref(), "regional"),
        filtered: n.attached_appliances.iter().any(|a| {
            state_is(a.appliance_type.as_deref(), "network-firewall-proxy")
                && state_is(a.attachment_state.as_deref(), "attached")
        }),
        tags: ec2_tags(&n.tags),
    }
}

/// Ports a protocol/port-range pair covers for TCP (`None`: not TCP at all).
fn tcp_ports(protocol: &str, from: Option<i64>, to: Option<i64>) -> Option<Ports> {
    match protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => Some(Ports::ALL),
        "tcp" | "6" => match (from, to) {
            (Some(from), Some(to)) => Ports::clamped(from, to),
            _ => Some(Ports::ALL),
        },
        _ => None,
    }
}

fn security_group(i: usize, g: &snapshot::SecurityGroup) -> Result<SecurityGroup, SnapshotError> {
    let ingress = g
        .ip_permissions
        .iter()
        .enumerate()
        .map(|(j, p)| {
            Ok(Ingress {
                ports: tcp_ports(&p.ip_protocol, p.from_port, p.to_port),
                cidrs: p
                    .ip_ranges
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        cidr_at(&r.cidr_ip, || {
                            format!("SecurityGroups[{i}].IpPermissions[{j}].IpRanges[{k}].CidrIp")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                groups: p
                    .user_id_group_pairs
                    .iter()
                    .filter_map(|pair| pair.group_id.clone())
                    .collect(),
            })
        })
        .collect::<Result<_, SnapshotError>>()?;
    Ok(SecurityGroup {
        id: g.group_id.clone(),
        ingress,
    })
}

fn network_acl(i: usize, a: &snapshot::NetworkAcl) -> Result<NetworkAcl, SnapshotError> {
    let mut inbound = Vec::new();
    let mut outbound = Vec::new();
    for (j, e) in a.entries.iter().enumerate() {
        let entry = AclEntry {
            rule_number: e.rule_number,
            allow: e.rule_action.eq_ignore_ascii_case("allow"),
            ports: tcp_ports(
                &e.protocol,
                e.port_range.map(|p| p.from),
                e.port_range.map(|p| p.to),
            ),
            cidr: e
                .cidr_block
                .as_deref()
                .map(|c| cidr_at(c, || format!("NetworkAcls[{i}].Entries[{j}].CidrBlock")))
                .transpose()?,
        };
        if e.egress {
            outbound.push(entry);
        } else {
            inbound.push(entry);
        }
    }
    inbound.sort_by_key(|e| e.rule_number);
    outbound.sort_by_key(|e| e.rule_number);
    Ok(NetworkAcl {
        id: a.network_acl_id.clone(),
        vpc: a.vpc_id.clone(),
        default: a.is_default,
        subnets: a.associations.iter().map(|s| s.subnet_id.clone()).collect(),
        inbound,
        outbound,
        tags: ec2_tags(&a.tags),
    })
}

fn service(s: &snapshot::EcsService) -> Service {
    let awsvpc = s
        .network_configuration
        .as_ref()
        .and_then(|n| n.awsvpc_configuration.as_ref());
    let launch = match s
        .launch_type
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("EXTERNAL") => Launch::External,
        Some("FARGATE") => Launch::Fargate,
        Some(_) => Launch::Ec2,
        None if s.capacity_provider_strategy.is_empty() => Launch::Ec2,
        None => {
            let fargate_only = s.capacity_provider_strategy.iter().all(|p| {
                matches!(
                    p.capacity_provider.to_ascii_uppercase().as_str(),
                    "FARGATE" | "FARGATE_SPOT"
                )
            });
            if fargate_only {
                Launch::Fargate
            } else {
                Launch::Ec2
            }
        }
    };
    Service {
        arn: s.service_arn.clone(),
        in_scope: state_is(s.status.as_deref(), "active")
            && awsvpc.is_some()
            && launch != Launch::External,
        launch,
        subnets: awsvpc.map(|a| a.subnets.clone()).unwrap_or_default(),
        security_groups: awsvpc
            .map(|a| a.security_groups.clone())
            .unwrap_or_default(),
        public_ip: awsvpc.is_some_and(|a| state_is(a.assign_public_ip.as_deref(), "enabled")),
        exec: s.enable_execute_command,
        task_definition: s.task_definition.clone(),
        tags: Tags::new(s.tags.iter().map(|t| (t.key.clone(), t.value.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_regions() {
        assert_eq!(
            short_service_name("com.amazonaws.us-east-1.ecr.dkr"),
            "ecr.dkr"
        );
        assert_eq!(short_service_name("com.amazonaws.eu-west-3.s3"), "s3");
        assert_eq!(short_service_name("aws.sagemaker.x"), "aws.sagemaker.x");
        assert_eq!(region_of_az("us-east-1a"), "us-east-1");
    }

    #[test]
    fn bad_members_name_their_path() {
        let doc: Snapshot = serde_json::from_str(
            r#"{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.0.0/24","AvailabilityZone":"us-east-1a"},
                           {"SubnetId":"subnet-2","VpcId":"vpc-1","CidrBlock":"10.0.300.0/24","AvailabilityZone":"us-east-1a"}]}"#,
        )
        .unwrap();
        let err = Topology::from_snapshot(&doc).unwrap_err().to_string();
        assert!(
            err.starts_with("Subnets[1].CidrBlock: expected an IPv4 CIDR"),
            "{err}"
        );
    }
}
