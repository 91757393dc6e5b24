//! A topology builder for the rules' table-driven tests.
//!
//! `Topo::base()` is one VPC (`vpc-1`, 10.0.0.0/16) in us-east-1 with an attached `igw-1`, a public
//! subnet `subnet-pub-a` (us-east-1a) routed to it, three private subnets `subnet-a|b|c`
//! (10.0.1-3.0/24, us-east-1a|b|c) on `rtb-private` (no default route), and one Fargate service
//! `svc` in `subnet-a` (security group `sg-task`) pulling from this region's ECR and logging with
//! awslogs: it needs `ecr.api`, `ecr.dkr`, `logs` and `s3` (ECR layers).
//! `endpoint_only()` adds a working S3 gateway endpoint and interface endpoints for the rest;
//! `nat_only()` routes the private subnets to a zonal NAT gateway in `subnet-pub-a`.

use crate::evaluate::evaluate_with;
use crate::finding::Finding;
use crate::model::Topology;
use crate::nat_metrics::{NatGatewayMetrics, NatGatewayTraffic};
use crate::rule_id::RuleId;
use crate::settings::EvaluationSettings;
use crate::snapshot::*;

/// The bundled example snapshots, by name.
pub(crate) const EXAMPLES: [(&str, &str); 3] = [
    ("broken-vpc", include_str!("../../examples/broken-vpc.json")),
    (
        "endpoint-only-vpc",
        include_str!("../../examples/endpoint-only-vpc.json"),
    ),
    (
        "nat-only-vpc",
        include_str!("../../examples/nat-only-vpc.json"),
    ),
];

pub(crate) const ECR_IMAGE: &str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1";

#[derive(Clone)]
pub(crate) struct Topo {
    pub doc: Snapshot,
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn subnet(id: &str, cidr: &str, az: &str) -> Subnet {
    Subnet {
        subnet_id: id.into(),
        vpc_id: "vpc-1".into(),
        cidr_block: cidr.into(),
        availability_zone: az.into(),
        ..Default::default()
    }
}

pub(crate) fn route(destination: &str, target: &str) -> Route {
    let mut r = Route {
        destination_cidr_block: Some(destination.into()),
        state: Some("active".into()),
        ..Default::default()
    };
    match target.split('-').next() {
        Some("nat") => r.nat_gateway_id = Some(target.into()),
        Some("tgw") => r.transit_gateway_id = Some(target.into()),
        Some("pcx") => r.vpc_peering_connection_id = Some(target.into()),
        Some("eni") => r.network_interface_id = Some(target.into()),
        _ => r.gateway_id = Some(target.into()),
    }
    r
}

fn association(subnet: &str) -> RouteTableAssociation {
    RouteTableAssociation {
        subnet_id: Some(subnet.into()),
        ..Default::default()
    }
}

/// An ACL entry: `(rule, egress, allow, protocol, ports, cidr)`.
pub(crate) fn acl_entry(
    rule: i64,
    egress: bool,
    allow: bool,
    ports: Option<(i64, i64)>,
    cidr: &str,
) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number: rule,
        protocol: if ports.is_some() { "6" } else { "-1" }.into(),
        rule_action: if allow { "allow" } else { "deny" }.into(),
        egress,
        cidr_block: Some(cidr.into()),
        ipv6_cidr_block: None,
        port_range: ports.map(|(from, to)| PortRange { from, to }),
    }
}

impl Topo {
    pub fn base() -> Topo {
        let doc = Snapshot {
            region: Some("us-east-1".into()),
            account_id: Some("111122223333".into()),
            vpcs: vec![Vpc {
                vpc_id: "vpc-1".into(),
                cidr_block: Some("10.0.0.0/16".into()),
                ..Default::default()
            }],
            subnets: vec![
                subnet("subnet-pub-a", "10.0.0.0/24", "us-east-1a"),
                subnet("subnet-a", "10.0.1.0/24", "us-east-1a"),
                subnet("subnet-b", "10.0.2.0/24", "us-east-1b"),
                subnet("subnet-c", "10.0.3.0/24", "us-east-1c"),
            ],
            route_tables: vec![
                RouteTable {
                    route_table_id: "rtb-main".into(),
                    vpc_id: "vpc-1".into(),
                    associations: vec![RouteTableAssociation {
                        main: true,
                        ..Default::default()
                    }],
                    routes: vec![route("10.0.0.0/16", "local")],
                    ..Default::default()
                },
                RouteTable {
                    route_table_id: "rtb-pub".into(),
                    vpc_id: "vpc-1".into(),
                    associations: vec![association("subnet-pub-a")],
                    routes: vec![route("10.0.0.0/16", "local"), route("0.0.0.0/0", "igw-1")],
                    ..Default::default()
                },
                RouteTable {
                    route_table_id: "rtb-private".into(),
                    vpc_id: "vpc-1".into(),
                    associations: ["subnet-a", "subnet-b", "subnet-c"]
                        .map(association)
                        .to_vec(),
                    routes: vec![route("10.0.0.0/16", "local")],
                    ..Default::default()
                },
            ],
            internet_gateways: vec![InternetGateway {
                internet_gateway_id: "igw-1".into(),
                attachments: vec![InternetGatewayAttachment {
                    vpc_id: "vpc-1".into(),
                    state: Some("available".into()),
                }],
                ..Default::default()
            }],
            security_groups: vec![
                SecurityGroup {
                    group_id: "sg-task".into(),
                    vpc_id: Some("vpc-1".into()),
                    ..Default::default()
                },
                SecurityGroup {
                    group_id: "sg-endpoint".into(),
                    vpc_id: Some("vpc-1".into()),
                    ip_permissions: vec![IpPermission {
                        ip_protocol: "tcp".into(),
                        from_port: Some(443),
                        to_port: Some(443),
                        ip_ranges: vec![IpRange {
                            cidr_ip: "10.0.0.0/16".into(),
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ],
            services: vec![Topo::service("svc", &["subnet-a"])],
            task_definitions: vec![TaskDefinition {
                task_definition_arn: "td-app".into(),
                container_definitions: vec![ContainerDefinition {
                    name: Some("app".into()),
                    image: Some(ECR_IMAGE.into()),
                    log_configuration: Some(LogConfiguration {
                        log_driver: "awslogs".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        };
        Topo { doc }
    }

    /// A Fargate service with the app task definition and `sg-task`.
    pub fn service(arn: &str, subnets: &[&str]) -> EcsService {
        EcsService {
            service_arn: arn.into(),
            status: Some("ACTIVE".into()),
            launch_type: Some("FARGATE".into()),
            task_definition: Some("td-app".into()),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: Some(AwsVpcConfiguration {
                    subnets: subnets.iter().map(|s| s.to_string()).collect(),
                    security_groups: vec!["sg-task".into()],
                    assign_public_ip: Some("DISABLED".into()),
                }),
            }),
            ..Default::default()
        }
    }

    pub fn endpoint_only() -> Topo {
        Topo::base()
            .gateway_endpoint("vpce-s3", "s3", &["rtb-private"])
            .interface_endpoint(
                "vpce-ecr-api",
                "ecr.api",
                &["subnet-a", "subnet-b", "subnet-c"],
            )
            .interface_endpoint(
                "vpce-ecr-dkr",
                "ecr.dkr",
                &["subnet-a", "subnet-b", "subnet-c"],
            )
            .interface_endpoint("vpce-logs", "logs", &["subnet-a", "subnet-b", "subnet-c"])
    }

    pub fn nat_only() -> Topo {
        Topo::base()
            .nat("nat-a", "subnet-pub-a")
            .default_route("rtb-private", "nat-a")
    }

    pub fn with(mut self, change: impl FnOnce(&mut Snapshot)) -> Topo {
        change(&mut self.doc);
        self
    }

    pub fn nat(self, id: &str, subnet: &str) -> Topo {
        let (id, subnet) = (id.to_string(), subnet.to_string());
        self.with(|d| {
            d.nat_gateways.push(NatGateway {
                nat_gateway_id: id,
                vpc_id: "vpc-1".into(),
                subnet_id: Some(subnet),
                state: Some("available".into()),
                connectivity_type: Some("public".into()),
                ..Default::default()
            })
        })
    }

    pub fn nat_mut(self, id: &str, change: impl FnOnce(&mut NatGateway)) -> Topo {
        self.with(|d| {
            if let Some(n) = d.nat_gateways.iter_mut().find(|n| n.nat_gateway_id == id) {
                change(n);
            }
        })
    }

    /// Sets (replaces) the `0.0.0.0/0` route of a route table.
    pub fn default_route(self, table: &str, target: &str) -> Topo {
        self.route_table(table, |t| {
            t.routes
                .retain(|r| r.destination_cidr_block.as_deref() != Some("0.0.0.0/0"));
            t.routes.push(route("0.0.0.0/0", target));
        })
    }

    pub fn route_table(self, id: &str, change: impl FnOnce(&mut RouteTable)) -> Topo {
        self.with(|d| {
            if let Some(t) = d.route_tables.iter_mut().find(|t| t.route_table_id == id) {
                change(t);
            }
        })
    }

    pub fn gateway_endpoint(self, id: &str, service: &str, tables: &[&str]) -> Topo {
        let endpoint = VpcEndpoint {
            vpc_endpoint_id: id.into(),
            vpc_endpoint_type: "Gateway".into(),
            vpc_id: "vpc-1".into(),
            service_name: format!("com.amazonaws.us-east-1.{service}"),
            state: Some("available".into()),
            route_table_ids: tables.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        self.with(|d| d.vpc_endpoints.push(endpoint))
    }

    pub fn interface_endpoint(self, id: &str, service: &str, subnets: &[&str]) -> Topo {
        let endpoint = VpcEndpoint {
            vpc_endpoint_id: id.into(),
            vpc_endpoint_type: "Interface".into(),
            vpc_id: "vpc-1".into(),
            service_name: format!("com.amazonaws.us-east-1.{service}"),
            state: Some("available".into()),
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            groups: vec![SecurityGroupIdentifier {
                group_id: "sg-endpoint".into(),
                group_name: None,
            }],
            private_dns_enabled: Some(true),
            ..Default::default()
        };
        self.with(|d| d.vpc_endpoints.push(endpoint))
    }

    pub fn endpoint_mut(self, id: &str, change: impl FnOnce(&mut VpcEndpoint)) -> Topo {
        self.with(|d| {
            if let Some(e) = d.vpc_endpoints.iter_mut().find(|e| e.vpc_endpoint_id == id) {
                change(e);
            }
        })
    }

    pub fn service_mut(self, arn: &str, change: impl FnOnce(&mut EcsService)) -> Topo {
        self.with(|d| {
            if let Some(s) = d.services.iter_mut().find(|s| s.service_arn == arn) {
                change(s);
            }
        })
    }

    pub fn add_service(self, arn: &str, subnets: &[&str]) -> Topo {
        let service = Topo::service(arn, subnets);
        self.with(|d| d.services.push(service))
    }

    /// Adds `reachguard:needs` to a service.
    pub fn needs(self, arn: &str, needs: &str) -> Topo {
        let needs = needs.to_string();
        self.service_mut(arn, |s| {
            s.tags.push(EcsTag {
                key: "reachguard:needs".into(),
                value: needs,
            })
        })
    }

    pub fn subnet_tag(self, subnet: &str, key: &str, value: &str) -> Topo {
        let t = tag(key, value);
        self.with(|d| {
            if let Some(s) = d.subnets.iter_mut().find(|s| s.subnet_id == subnet) {
                s.tags.push(t);
            }
        })
    }

    pub fn vpc_tag(self, key: &str, value: &str) -> Topo {
        let t = tag(key, value);
        self.with(|d| d.vpcs[0].tags.push(t))
    }

    pub fn vpc_dns(self, support: bool, hostnames: bool) -> Topo {
        self.with(|d| {
            d.vpc_attributes = vec![VpcAttributes {
                vpc_id: "vpc-1".into(),
                enable_dns_support: Some(AttributeBoolean { value: support }),
                enable_dns_hostnames: Some(AttributeBoolean { value: hostnames }),
            }]
        })
    }

    /// Replaces the endpoint security group's ingress rules.
    pub fn endpoint_ingress(self, rules: Vec<IpPermission>) -> Topo {
        self.with(|d| {
            if let Some(g) = d
                .security_groups
                .iter_mut()
                .find(|g| g.group_id == "sg-endpoint")
            {
                g.ip_permissions = rules;
            }
        })
    }

    /// Gives every subnet of vpc-1 the default ACL `acl-default` (allow all), then attaches
    /// `acl-test` with `entries` to `subnets`.
    pub fn acl(self, subnets: &[&str], entries: Vec<NetworkAclEntry>) -> Topo {
        let subnets: Vec<String> = subnets.iter().map(|s| s.to_string()).collect();
        self.with(|d| {
            let acls = d.network_acls.get_or_insert_with(Vec::new);
            if acls.is_empty() {
                acls.push(NetworkAcl {
                    network_acl_id: "acl-default".into(),
                    vpc_id: "vpc-1".into(),
                    is_default: true,
                    entries: vec![
                        acl_entry(100, true, true, None, "0.0.0.0/0"),
                        acl_entry(100, false, true, None, "0.0.0.0/0"),
                    ],
                    ..Default::default()
                });
            }
            acls.push(NetworkAcl {
                network_acl_id: "acl-test".into(),
                vpc_id: "vpc-1".into(),
                associations: subnets
                    .into_iter()
                    .map(|subnet_id| NetworkAclAssociation {
                        subnet_id,
                        network_acl_association_id: None,
                    })
                    .collect(),
                entries,
                ..Default::default()
            });
        })
    }

    /// Adds a NAT gateway's figures to `NatGatewayMetrics` (a 7-day window).
    pub fn nat_metrics(self, traffic: NatGatewayTraffic) -> Topo {
        self.with(|d| {
            d.nat_gateway_metrics
                .get_or_insert_with(|| NatGatewayMetrics {
                    window_days: 7,
                    ..Default::default()
                })
                .nat_gateways
                .push(traffic)
        })
    }

    /// Evaluates and returns the findings of `rule`.
    pub fn findings(&self, rule: RuleId) -> Vec<Finding> {
        self.findings_with(rule, EvaluationSettings::default())
    }

    /// Evaluates with `settings` and returns the findings of `rule`.
    pub fn findings_with(&self, rule: RuleId, settings: EvaluationSettings) -> Vec<Finding> {
        let topology = Topology::from_snapshot(&self.doc).expect("test topology is valid");
        evaluate_with(&topology, settings)
            .0
            .findings
            .into_iter()
            .filter(|f| f.rule == rule)
            .collect()
    }

    /// The subjects of `rule`'s findings, each as its values joined by `|`.
    pub fn subjects(&self, rule: RuleId) -> Vec<String> {
        self.findings(rule)
            .iter()
            .map(|f| {
                f.subject()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }
}

/// A TCP 443 ingress permission from a CIDR.
pub(crate) fn https_from_cidr(cidr: &str) -> IpPermission {
    IpPermission {
        ip_protocol: "tcp".into(),
        from_port: Some(443),
        to_port: Some(443),
        ip_ranges: vec![IpRange {
            cidr_ip: cidr.into(),
        }],
        ..Default::default()
    }
}

/// A NAT gateway's figures: a quiet week (10 GB each way, no errors, no drops, a 10 Mbps busiest
/// minute), then `change`.
pub(crate) fn measured_nat(
    id: &str,
    change: impl FnOnce(&mut NatGatewayTraffic),
) -> NatGatewayTraffic {
    let gb = crate::nat_metrics::BYTES_PER_GB;
    let mut traffic = NatGatewayTraffic {
        nat_gateway_id: id.into(),
        bytes_in_from_source: 10.0 * gb,
        bytes_out_to_destination: 10.0 * gb,
        bytes_in_from_destination: 10.0 * gb,
        bytes_out_to_source: 10.0 * gb,
        packets_in_from_source: 7_000_000.0,
        packets_out_to_destination: 7_000_000.0,
        packets_in_from_destination: 8_000_000.0,
        packets_out_to_source: 8_000_000.0,
        peak_bytes_per_second: 1.25e6,
        peak_packets_per_second: 1_000.0,
        ..Default::default()
    };
    change(&mut traffic);
    traffic
}
