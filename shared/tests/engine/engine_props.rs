//! Property tests: the engine never panics on arbitrary snapshots (ids drawn from small pools so
//! that references meet, dangle, repeat and contradict each other), and its output keeps its
//! invariants: sorted, one finding per identity, subject fields present, JSON round-trips.

use proptest::prelude::*;
use reachguard_shared::evaluate::{Report, evaluate};
use reachguard_shared::finding;
use reachguard_shared::model::Topology;
use reachguard_shared::nat_metrics::{NatGatewayMetrics, NatGatewayTraffic};
use reachguard_shared::remediation::check_safety;
use reachguard_shared::snapshot::*;

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(items)
}

fn id(prefix: &'static str, n: usize) -> impl Strategy<Value = String> {
    (0..n).prop_map(move |i| format!("{prefix}-{i}"))
}

fn ids(prefix: &'static str, n: usize, max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(id(prefix, n), 0..max)
}

const CIDRS: &[&str] = &[
    "10.0.0.0/16",
    "10.0.1.0/24",
    "10.0.2.0/24",
    "10.1.0.0/16",
    "0.0.0.0/0",
    "10.0.1.128/25",
];
const AZS: &[&str] = &["us-east-1a", "us-east-1b", "us-east-1c"];
const STATES: &[&str] = &["available", "AVAILABLE", "pending", "deleted", "failed", ""];
const SERVICES: &[&str] = &[
    "s3",
    "dynamodb",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "ssm",
    "sqs",
];
const POLICIES: &[&str] = &[
    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}}"#,
    r#"{"Statement":[{"Effect":"Deny","Action":"s3:Get*","NotResource":"arn:aws:s3:::x"}]}"#,
];
const TAG_KEYS: &[&str] = &[
    "reachguard:exempt",
    "reachguard:egress",
    "reachguard:workload",
    "reachguard:needs",
    "Name",
];
const TAG_VALUES: &[&str] = &[
    "all",
    "restricted",
    "ecs",
    "dynamodb sqs",
    "nat-single-az,route-blackhole",
    "",
];
const IMAGES: &[&str] = &[
    "111122223333.dkr.ecr.us-east-1.amazonaws.com/a:1",
    "111122223333.dkr.ecr.eu-west-1.amazonaws.com/a",
    "nginx",
    "public.ecr.aws/x/y",
    "",
];

fn tags() -> impl Strategy<Value = Vec<Tag>> {
    prop::collection::vec(
        (pick(TAG_KEYS), pick(TAG_VALUES)).prop_map(|(k, v)| Tag {
            key: k.into(),
            value: v.into(),
        }),
        0..2,
    )
}

fn route() -> impl Strategy<Value = Route> {
    let target = pick(&[
        "igw-0", "igw-1", "nat-0", "nat-1", "nat-9", "tgw-1", "pcx-1", "vpce-0", "local", "eigw-1",
        "eni-1", "none",
    ]);
    (
        pick(&["0.0.0.0/0", "10.0.0.0/16", "pl-1"]),
        target,
        pick(&["active", "blackhole", "BLACKHOLE"]),
    )
        .prop_map(|(dest, target, state)| {
            let mut r = Route {
                state: Some(state.into()),
                ..Default::default()
            };
            if dest.starts_with("pl-") {
                r.destination_prefix_list_id = Some(dest.into())
            } else {
                r.destination_cidr_block = Some(dest.into())
            }
            let t = Some(target.to_string());
            match target.split('-').next() {
                Some("nat") => r.nat_gateway_id = t,
                Some("tgw") => r.transit_gateway_id = t,
                Some("pcx") => r.vpc_peering_connection_id = t,
                Some("eigw") => r.egress_only_internet_gateway_id = t,
                Some("eni") => r.network_interface_id = t,
                Some("none") => {}
                _ => r.gateway_id = t,
            }
            r
        })
}

fn acl_entry() -> impl Strategy<Value = NetworkAclEntry> {
    (
        1i64..200,
        pick(&["-1", "6", "17"]),
        any::<bool>(),
        any::<bool>(),
        pick(CIDRS),
        prop::option::of((0i64..70000, 0i64..70000)),
    )
        .prop_map(
            |(rule_number, protocol, allow, egress, cidr, ports)| NetworkAclEntry {
                rule_number,
                protocol: protocol.into(),
                rule_action: if allow { "allow" } else { "deny" }.into(),
                egress,
                cidr_block: Some(cidr.into()),
                ipv6_cidr_block: None,
                port_range: ports.map(|(from, to)| PortRange { from, to }),
            },
        )
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    let vpcs = prop::collection::vec(
        (id("vpc", 3), pick(CIDRS), tags()).prop_map(|(vpc_id, c, tags)| Vpc {
            vpc_id,
            cidr_block: Some(c.into()),
            owner_id: None,
            tags,
        }),
        0..3,
    );
    let attributes = prop::collection::vec(
        (id("vpc", 3), any::<bool>(), any::<bool>()).prop_map(|(vpc_id, s, h)| VpcAttributes {
            vpc_id,
            enable_dns_support: Some(AttributeBoolean { value: s }),
            enable_dns_hostnames: Some(AttributeBoolean { value: h }),
        }),
        0..3,
    );
    let subnets = prop::collection::vec(
        (
            id("subnet", 8),
            id("vpc", 3),
            pick(CIDRS),
            pick(AZS),
            tags(),
        )
            .prop_map(|(subnet_id, vpc_id, c, az, tags)| Subnet {
                subnet_id,
                vpc_id,
                cidr_block: c.into(),
                availability_zone: az.into(),
                availability_zone_id: None,
                owner_id: None,
                tags,
            }),
        0..8,
    );
    let tables = prop::collection::vec(
        (
            id("rtb", 5),
            id("vpc", 3),
            ids("subnet", 9, 3),
            any::<bool>(),
            prop::collection::vec(route(), 0..4),
        )
            .prop_map(|(route_table_id, vpc_id, subnets, main, routes)| {
                let mut associations: Vec<RouteTableAssociation> = subnets
                    .into_iter()
                    .map(|s| RouteTableAssociation {
                        subnet_id: Some(s),
                        ..Default::default()
                    })
                    .collect();
                associations.push(RouteTableAssociation {
                    main,
                    ..Default::default()
                });
                RouteTable {
                    route_table_id,
                    vpc_id,
                    associations,
                    routes,
                    tags: vec![],
                }
            }),
        0..5,
    );
    let endpoints = prop::collection::vec(
        (
            id("vpce", 6),
            pick(&["Gateway", "Interface", "GatewayLoadBalancer"]),
            id("vpc", 3),
            pick(SERVICES),
            pick(STATES),
            prop::option::of(pick(POLICIES)),
            ids("rtb", 5, 3),
            ids("subnet", 9, 3),
            ids("sg", 4, 2),
            prop::option::of(any::<bool>()),
        )
            .prop_map(
                |(vpc_endpoint_id, t, vpc_id, s, state, policy, rts, subnets, groups, dns)| {
                    VpcEndpoint {
                        vpc_endpoint_id,
                        vpc_endpoint_type: t.into(),
                        vpc_id,
                        service_name: format!("com.amazonaws.us-east-1.{s}"),
                        state: Some(state.into()),
                        policy_document: policy.map(str::to_string),
                        route_table_ids: rts,
                        subnet_ids: subnets,
                        groups: groups
                            .into_iter()
                            .map(|group_id| SecurityGroupIdentifier {
                                group_id,
                                group_name: None,
                            })
                            .collect(),
                        private_dns_enabled: dns,
                        tags: vec![],
                    }
                },
            ),
        0..6,
    );
    let nats = prop::collection::vec(
        (
            id("nat", 3),
            id("vpc", 3),
            prop::option::of(id("subnet", 9)),
            pick(STATES),
            pick(&["public", "private", ""]),
            pick(&["zonal", "regional", ""]),
            any::<bool>(),
        )
            .prop_map(|(nat_gateway_id, vpc_id, subnet_id, state, c, m, proxy)| {
                NatGateway {
                    nat_gateway_id,
                    vpc_id,
                    subnet_id,
                    state: Some(state.into()),
                    connectivity_type: Some(c.into()),
                    availability_mode: Some(m.into()),
                    attached_appliances: if proxy {
                        vec![AttachedAppliance {
                            appliance_type: Some("network-firewall-proxy".into()),
                            attachment_state: Some("attached".into()),
                        }]
                    } else {
                        vec![]
                    },
                    tags: vec![],
                }
            }),
        0..3,
    );
    let igws = prop::collection::vec(
        (id("igw", 2), id("vpc", 3)).prop_map(|(internet_gateway_id, vpc_id)| InternetGateway {
            internet_gateway_id,
            attachments: vec![InternetGatewayAttachment {
                vpc_id,
                state: Some("available".into()),
            }],
            tags: vec![],
        }),
        0..2,
    );
    let groups = prop::collection::vec(
        (
            id("sg", 4),
            pick(&["-1", "tcp", "6", "udp"]),
            prop::option::of((-1i64..1000, -1i64..70000)),
            pick(CIDRS),
            ids("sg", 4, 2),
        )
            .prop_map(|(group_id, p, ports, c, pairs)| SecurityGroup {
                group_id,
                vpc_id: None,
                group_name: None,
                tags: vec![],
                ip_permissions: vec![IpPermission {
                    ip_protocol: p.into(),
                    from_port: ports.map(|x| x.0),
                    to_port: ports.map(|x| x.1),
                    ip_ranges: vec![IpRange { cidr_ip: c.into() }],
                    user_id_group_pairs: pairs
                        .into_iter()
                        .map(|g| UserIdGroupPair { group_id: Some(g) })
                        .collect(),
                }],
            }),
        0..4,
    );
    let acls = prop::option::of(prop::collection::vec(
        (
            id("acl", 3),
            id("vpc", 3),
            any::<bool>(),
            ids("subnet", 9, 3),
            prop::collection::vec(acl_entry(), 0..6),
        )
            .prop_map(|(network_acl_id, vpc_id, is_default, subnets, entries)| {
                NetworkAcl {
                    network_acl_id,
                    vpc_id,
                    is_default,
                    entries,
                    tags: vec![],
                    associations: subnets
                        .into_iter()
                        .map(|subnet_id| NetworkAclAssociation {
                            subnet_id,
                            network_acl_association_id: None,
                        })
                        .collect(),
                }
            }),
        0..3,
    ));
    let services = prop::collection::vec(
        (
            id("svc", 4),
            pick(&["ACTIVE", "DRAINING", "active"]),
            prop::option::of(pick(&["EC2", "FARGATE", "EXTERNAL"])),
            ids("subnet", 9, 3),
            ids("sg", 4, 2),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(id("td", 3)),
            tags(),
        )
            .prop_map(
                |(service_arn, status, launch, subnets, sgs, public, exec, td, tags)| EcsService {
                    service_arn,
                    status: Some(status.into()),
                    launch_type: launch.map(str::to_string),
                    task_definition: td,
                    enable_execute_command: exec,
                    service_name: None,
                    cluster_arn: None,
                    capacity_provider_strategy: vec![],
                    network_configuration: Some(NetworkConfiguration {
                        awsvpc_configuration: Some(AwsVpcConfiguration {
                            subnets,
                            security_groups: sgs,
                            assign_public_ip: Some(
                                if public { "ENABLED" } else { "DISABLED" }.into(),
                            ),
                        }),
                    }),
                    tags: tags
                        .into_iter()
                        .map(|t| EcsTag {
                            key: t.key,
                            value: t.value,
                        })
                        .collect(),
                },
            ),
        0..4,
    );
    let task_definitions = prop::collection::vec(
        (
            id("td", 3),
            pick(IMAGES),
            any::<bool>(),
            pick(&[
                "db",
                "arn:aws:secretsmanager:us-east-1:1:secret:x",
                "arn:aws:ssm:eu-west-1:1:parameter/x",
                "arn:aws:s3:::b/k",
            ]),
        )
            .prop_map(
                |(task_definition_arn, image, logs, secret)| TaskDefinition {
                    task_definition_arn,
                    container_definitions: vec![ContainerDefinition {
                        image: Some(image.into()),
                        log_configuration: logs.then(|| LogConfiguration {
                            log_driver: "awslogs".into(),
                            ..Default::default()
                        }),
                        secrets: vec![Secret {
                            name: "S".into(),
                            value_from: secret.into(),
                        }],
                        ..Default::default()
                    }],
                },
            ),
        0..3,
    );
    // Figures for NAT ids of the same pool: zero, small, huge and (invalid) negative counts.
    const FIGURES: &[f64] = &[0.0, 1.0, 5e3, 1e7, 1e13, -1.0];
    let traffic = (id("nat", 3), prop::collection::vec(pick(FIGURES), 6)).prop_map(|(id, f)| {
        NatGatewayTraffic {
            nat_gateway_id: id,
            bytes_in_from_source: f[0],
            bytes_in_from_destination: f[1],
            packets_in_from_source: f[2],
            packets_drop_count: f[3],
            error_port_allocation: f[4],
            peak_bytes_per_second: f[5],
            peak_packets_per_second: f[2],
            ..Default::default()
        }
    });
    let metrics = prop::option::of((0..15u32, prop::collection::vec(traffic, 0..4)).prop_map(
        |(window_days, nat_gateways)| NatGatewayMetrics {
            window_days,
            end_time: None,
            nat_gateways,
        },
    ));
    (
        (
            vpcs,
            attributes,
            subnets,
            tables,
            endpoints,
            nats,
            igws,
            groups,
            acls,
            services,
            task_definitions,
        ),
        metrics,
    )
        .prop_map(
            |(
                (
                    vpcs,
                    vpc_attributes,
                    subnets,
                    route_tables,
                    vpc_endpoints,
                    nat_gateways,
                    internet_gateways,
                    security_groups,
                    network_acls,
                    services,
                    task_definitions,
                ),
                nat_gateway_metrics,
            )| Snapshot {
                region: None,
                account_id: Some("111122223333".into()),
                vpcs,
                vpc_attributes,
                subnets,
                route_tables,
                vpc_endpoints,
                nat_gateways,
                internet_gateways,
                security_groups,
                network_acls,
                services,
                task_definitions,
                nat_gateway_metrics,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn engine_never_panics_and_keeps_its_invariants(doc in snapshot()) {
        let Ok(topology) = Topology::from_snapshot(&doc) else { return Ok(()) };
        let report = evaluate(&topology);
        let mut sorted = report.findings.clone();
        finding::sort(&mut sorted);
        prop_assert_eq!(&sorted, &report.findings);
        let mut keys: Vec<String> = report.findings.iter().map(|f| f.key()).collect();
        keys.dedup();
        prop_assert_eq!(keys.len(), report.findings.len(), "one finding per identity");
        for f in &report.findings {
            for &field in f.rule.subject() {
                prop_assert!(f.field(field).is_some(), "{} lacks {}", f.rule, field.as_str());
            }
            prop_assert!(!f.message.is_empty());
            for action in &f.remediation {
                let _ = check_safety(&topology, action);
            }
        }
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, report);
    }

    #[test]
    fn snapshot_parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = Snapshot::from_json(&text);
    }

    #[test]
    fn snapshot_round_trips_through_json(doc in snapshot()) {
        let json = serde_json::to_string(&doc).unwrap();
        let back = Snapshot::from_json(&json).unwrap();
        prop_assert_eq!(back, doc);
    }
}
