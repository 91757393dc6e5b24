//! Evaluation cost on synthetic topologies at 1×, 10× and 100× scale.
//!
//! 1× is 10 VPCs with 10 subnets each (100 subnets), 20 services and 10 endpoints; 100× is
//! 10,000 subnets, 2,000 services and 1,000 endpoints. Each VPC mixes the shapes the rules care
//! about: a public subnet with a zonal NAT gateway, private subnets on a NAT route table, an S3
//! gateway endpoint on one route table only, network ACLs, and two Fargate services over three
//! AZs pulling from ECR; every NAT gateway has CloudWatch figures (`NatGatewayMetrics`), a third
//! of them over the measured rules' thresholds. Run: `cargo bench -p reachguard-shared --bench
//! evaluate`. `map/svg/10x` times drawing the 10× topology's map (every VPC, as `reachguard map`
//! does).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use reachguard_shared::evaluate::evaluate;
use reachguard_shared::evaluation::{Evaluation, Findings};
use reachguard_shared::map;
use reachguard_shared::model::Topology;
use reachguard_shared::nat_metrics::{NatGatewayMetrics, NatGatewayTraffic};
use reachguard_shared::rules::RULES;
use reachguard_shared::snapshot::*;

const AZS: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn synthetic(scale: usize) -> Snapshot {
    let mut doc = Snapshot {
        region: Some("us-east-1".into()),
        account_id: Some("111122223333".into()),
        network_acls: Some(Vec::new()),
        ..Default::default()
    };
    for v in 0..10 * scale {
        let vpc = format!("vpc-{v:08x}");
        let octet = |i: usize| format!("10.{}.{}.0/24", v % 250, i);
        doc.vpcs.push(Vpc {
            vpc_id: vpc.clone(),
            cidr_block: Some(format!("10.{}.0.0/16", v % 250)),
            ..Default::default()
        });
        let subnet_ids: Vec<String> = (0..10).map(|i| format!("subnet-{v:08x}{i:02}")).collect();
        for (i, id) in subnet_ids.iter().enumerate() {
            doc.subnets.push(Subnet {
                subnet_id: id.clone(),
                vpc_id: vpc.clone(),
                cidr_block: octet(i),
                availability_zone: AZS[i % 3].into(),
                ..Default::default()
            });
        }
        let nat = format!("nat-{v:08x}");
        let igw = format!("igw-{v:08x}");
        let route = |target: Route| {
            vec![
                Route {
                    destination_cidr_block: Some(format!("10.{}.0.0/16", v % 250)),
                    gateway_id: Some("local".into()),
                    ..Default::default()
                },
                target,
            ]
        };
        let assoc = |range: std::ops::Range<usize>| {
            range
                .map(|i| RouteTableAssociation {
                    subnet_id: Some(subnet_ids[i].clone()),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        doc.route_tables.push(RouteTable {
            route_table_id: format!("rtb-{v:08x}p"),
            vpc_id: vpc.clone(),
            associations: assoc(0..1),
            routes: route(Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                gateway_id: Some(igw.clone()),
                ..Default::default()
            }),
            tags: vec![],
        });
        doc.route_tables.push(RouteTable {
            route_table_id: format!("rtb-{v:08x}a"),
            vpc_id: vpc.clone(),
            associations: assoc(1..6),
            routes: route(Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                nat_gateway_id: Some(nat.clone()),
                ..Default::default()
            }),
            tags: vec![],
        });
        doc.route_tables.push(RouteTable {
            route_table_id: format!("rtb-{v:08x}b"),
            vpc_id: vpc.clone(),
            associations: assoc(6..10),
            routes: route(Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                nat_gateway_id: Some(nat.clone()),
                ..Default::default()
            }),
            tags: vec![],
        });
        // Every NAT gateway is measured; every third one is overloaded, so the measured rules
        // fire (and their messages are built) as often as they check.
        let overloaded = v % 3 == 0;
        let metrics = doc
            .nat_gateway_metrics
            .get_or_insert_with(|| NatGatewayMetrics {
                window_days: 7,
                ..Default::default()
            });
        metrics.nat_gateways.push(NatGatewayTraffic {
            nat_gateway_id: nat.clone(),
            bytes_in_from_source: 2e12,
            bytes_in_from_destination: 9e12,
            packets_in_from_source: 2e9,
            packets_in_from_destination: 8e9,
            packets_drop_count: if overloaded { 4e6 } else { 0.0 },
            error_port_allocation: if overloaded { 1_500.0 } else { 0.0 },
            peak_bytes_per_second: if overloaded { 1.1e10 } else { 1e8 },
            peak_packets_per_second: 1e6,
            ..Default::default()
        });
        doc.nat_gateways.push(NatGateway {
            nat_gateway_id: nat,
            vpc_id: vpc.clone(),
            subnet_id: Some(subnet_ids[0].clone()),
            state: Some("available".into()),
            ..Default::default()
        });
        doc.internet_gateways.push(InternetGateway {
            internet_gateway_id: igw,
            attachments: vec![InternetGatewayAttachment {
                vpc_id: vpc.clone(),
                state: Some("available".into()),
            }],
            tags: vec![],
        });
        doc.vpc_endpoints.push(VpcEndpoint {
            vpc_endpoint_id: format!("vpce-{v:08x}"),
            vpc_endpoint_type: "Gateway".into(),
            vpc_id: vpc.clone(),
            service_name: "com.amazonaws.us-east-1.s3".into(),
            state: Some("available".into()),
            route_table_ids: vec![format!("rtb-{v:08x}a")],
            ..Default::default()
        });
        let allow = |egress| NetworkAclEntry {
            rule_number: 100,
            protocol: "-1".into(),
            rule_action: "allow".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ipv6_cidr_block: None,
            port_range: None,
        };
        if let Some(acls) = doc.network_acls.as_mut() {
            acls.push(NetworkAcl {
                network_acl_id: format!("acl-{v:08x}"),
                vpc_id: vpc.clone(),
                is_default: true,
                associations: vec![],
                entries: vec![allow(true), allow(false)],
                tags: vec![],
            });
        }
        doc.security_groups.push(SecurityGroup {
            group_id: format!("sg-{v:08x}"),
            vpc_id: Some(vpc.clone()),
            ..Default::default()
        });
        for s in 0..2 {
            let subnets = (0..3).map(|i| subnet_ids[1 + s * 5 + i].clone()).collect();
            doc.services.push(EcsService {
                service_arn: format!("arn:aws:ecs:us-east-1:111122223333:service/c{v}/s{s}"),
                status: Some("ACTIVE".into()),
                launch_type: Some("FARGATE".into()),
                task_definition: Some("td".into()),
                network_configuration: Some(NetworkConfiguration {
                    awsvpc_configuration: Some(AwsVpcConfiguration {
                        subnets,
                        security_groups: vec![format!("sg-{v:08x}")],
                        assign_public_ip: None,
                    }),
                }),
                ..Default::default()
            });
        }
    }
    doc.task_definitions.push(TaskDefinition {
        task_definition_arn: "td".into(),
        container_definitions: vec![ContainerDefinition {
            image: Some("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1".into()),
            log_configuration: Some(LogConfiguration {
                log_driver: "awslogs".into(),
                ..Default::default()
            }),
            secrets: vec![Secret {
                name: "DB".into(),
                value_from: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db".into(),
            }],
            ..Default::default()
        }],
    });
    doc
}

/// One timed pass of each stage, to see where the time goes (criterion times the whole).
fn print_breakdown(topology: &Topology) {
    let start = Instant::now();
    let evaluation = Evaluation::new(topology);
    eprintln!(
        "  paths ({}): {:?}",
        evaluation.paths.len(),
        start.elapsed()
    );
    for rule in RULES {
        let start = Instant::now();
        let mut findings = Findings::default();
        (rule.check)(&evaluation, &mut findings);
        eprintln!("  {}: {:?}", rule.id, start.elapsed());
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for scale in [1, 10, 100] {
        let doc = synthetic(scale);
        let topology = Topology::from_snapshot(&doc).expect("synthetic topology is valid");
        let report = evaluate(&topology);
        eprintln!(
            "{scale}x: {} subnets, {} services, {} endpoints -> {} findings",
            doc.subnets.len(),
            doc.services.len(),
            doc.vpc_endpoints.len(),
            report.findings.len()
        );
        if scale == 100 {
            print_breakdown(&topology);
        }
        group.throughput(Throughput::Elements(doc.subnets.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("rules", format!("{scale}x")),
            &topology,
            |b, t| b.iter(|| evaluate(black_box(t))),
        );
        group.bench_with_input(
            BenchmarkId::new("index", format!("{scale}x")),
            &doc,
            |b, d| b.iter(|| Topology::from_snapshot(black_box(d))),
        );
    }
    group.finish();
}

/// Building and drawing the map of every VPC of the 10× topology (the report's maps too).
fn bench_map(c: &mut Criterion) {
    let doc = synthetic(10);
    let topology = Topology::from_snapshot(&doc).expect("synthetic topology is valid");
    let draw = |t: &Topology| {
        let report = evaluate(t);
        let maps = map::build(&Evaluation::new(t), &report);
        map::svg::render(&maps)
    };
    let start = Instant::now();
    let svg = draw(&topology);
    eprintln!(
        "map 10x: {} VPCs, {} subnets -> {} KiB of SVG in {:?} (evaluation included)",
        topology.vpcs.len(),
        topology.subnets.len(),
        svg.len() / 1024,
        start.elapsed()
    );
    let mut group = c.benchmark_group("map");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_with_input(BenchmarkId::new("svg", "10x"), &topology, |b, t| {
        b.iter(|| draw(black_box(t)))
    });
    group.finish();
}

criterion_group!(benches, bench, bench_map);
criterion_main!(benches);
