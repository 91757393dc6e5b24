//! Many VPCs, subnets and services in one moto account, seeded through the SDK with many requests
//! in flight: the large-account test (EC2's 200-filter-value limit, `ListServices` paging) and the
//! timeline benchmark use it.
//!
//! Each VPC (`10.<100+v>.0.0/16`, DNS support and host names on) has `subnets_per_vpc` subnets
//! alternating between `us-east-1a` and `us-east-1b`, and a security group for its tasks. The services are spread over `clusters`
//! clusters (one Fargate task definition each: [`seed::cluster_with_task_definition`]) and, round
//! robin, over the VPCs; each service runs in three consecutive subnets of its VPC, so every
//! subnet hosts a service once a VPC has at least a third as many services as subnets.

use aws_sdk_ec2::types::AttributeBooleanValue;
use futures::stream::{self, StreamExt};

use crate::{Account, seed};

/// Requests the seeding keeps in flight.
const IN_FLIGHT: usize = 16;
/// Subnets each service runs in.
const SUBNETS_PER_SERVICE: usize = 3;

/// The size of a large account.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// VPCs (at most 155: their CIDRs are `10.100.0.0/16` upwards).
    pub vpcs: usize,
    /// Subnets per VPC (at most 256, at least 3).
    pub subnets_per_vpc: usize,
    /// ECS clusters.
    pub clusters: usize,
    /// ECS services, spread over the clusters and the VPCs.
    pub services: usize,
}

/// What was seeded, by id.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The VPCs, in creation order.
    pub vpcs: Vec<String>,
    /// Each VPC's subnets (same order as `vpcs`).
    pub subnets: Vec<Vec<String>>,
    /// Service ARNs.
    pub services: Vec<String>,
}

/// Seeds `shape` into `account`.
pub async fn seed(account: &Account, shape: Shape) -> Seeded {
    let ec2 = account.ec2();
    let (vpcs, security_groups): (Vec<String>, Vec<String>) = stream::iter(0..shape.vpcs)
        .map(|v| {
            let ec2 = ec2.clone();
            async move {
                let out = ec2
                    .create_vpc()
                    .cidr_block(format!("10.{}.0.0/16", 100 + v))
                    .send()
                    .await
                    .expect("CreateVpc");
                let vpc = out
                    .vpc()
                    .and_then(|v| v.vpc_id())
                    .expect("vpc id")
                    .to_owned();
                let on = || Some(AttributeBooleanValue::builder().value(true).build());
                ec2.modify_vpc_attribute()
                    .vpc_id(&vpc)
                    .set_enable_dns_support(on())
                    .send()
                    .await
                    .expect("ModifyVpcAttribute");
                ec2.modify_vpc_attribute()
                    .vpc_id(&vpc)
                    .set_enable_dns_hostnames(on())
                    .send()
                    .await
                    .expect("ModifyVpcAttribute");
                let tasks = seed::security_group(account, &vpc, "tasks", None).await;
                (vpc, tasks)
            }
        })
        .buffered(IN_FLIGHT)
        .unzip()
        .await;

    let subnet_requests = vpcs
        .iter()
        .enumerate()
        .flat_map(|(v, vpc)| (0..shape.subnets_per_vpc).map(move |i| (v, vpc.clone(), i)));
    let created: Vec<(usize, String)> = stream::iter(subnet_requests)
        .map(|(v, vpc, i)| async move {
            let az = if i % 2 == 0 {
                "us-east-1a"
            } else {
                "us-east-1b"
            };
            let cidr = format!("10.{}.{i}.0/24", 100 + v);
            (v, seed::subnet(account, &vpc, &cidr, az).await)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut subnets = vec![Vec::new(); vpcs.len()];
    for (v, subnet) in created {
        subnets[v].push(subnet);
    }

    let task_definitions: Vec<String> =
        stream::iter(0..shape.clusters)
            .map(|c| async move {
                seed::cluster_with_task_definition(account, &format!("large-{c}")).await
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
    let services: Vec<String> = stream::iter(0..shape.services)
        .map(|s| {
            let (subnets, security_groups, task_definitions) =
                (&subnets, &security_groups, &task_definitions);
            async move {
                let c = s % shape.clusters;
                let v = s % shape.vpcs;
                let vpc_subnets = &subnets[v];
                let first = (s / shape.vpcs) * SUBNETS_PER_SERVICE;
                let mine: Vec<String> = (first..first + SUBNETS_PER_SERVICE)
                    .map(|i| vpc_subnets[i % vpc_subnets.len()].clone())
                    .collect();
                let request = seed::fargate_service(
                    account,
                    &format!("large-{c}"),
                    &format!("svc-{s}"),
                    &task_definitions[c],
                    mine,
                    &security_groups[v],
                );
                seed::service_arn(request).await
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    Seeded {
        vpcs,
        subnets,
        services,
    }
}
