//! The reference topologies of RULES.md, seeded into a moto account through the SDK.
//!
//! Every service is a Fargate service whose task pulls a private ECR image of the same region
//! and logs with `awslogs`, so it depends on `ecr.api`, `ecr.dkr`, `s3` (the ECR layer bucket)
//! and `logs` (RULES.md §1). Two private subnets, in `us-east-1a` and `us-east-1b`.
//!
//! - [`endpoint_only`]: private subnets, no default route, an S3 gateway endpoint on their route
//!   table and interface endpoints (private DNS, HTTPS from the VPC) for the rest: compliant.
//! - [`nat_only`] (and [`nat_only_named`]): a zonal NAT gateway in a public subnet of `us-east-1a` is the only way out: S3
//!   goes through the NAT (`nat-for-gateway-service`), and `us-east-1b` depends on another AZ's
//!   NAT (`nat-single-az`).
//! - [`broken`]: like `endpoint_only`, but the S3 gateway endpoint sits on another route table
//!   (`gateway-endpoint-not-associated`, `s3` unreachable) and the service also needs DynamoDB,
//!   for which nothing exists (`dynamodb` unreachable).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification,
    VpcEndpointType,
};
use aws_sdk_ecs::operation::create_service::builders::CreateServiceFluentBuilder;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerDefinition, LaunchType, LogConfiguration,
    LogDriver, NetworkConfiguration, Tag as EcsTag,
};

use crate::{Account, REGION};

/// What a topology consists of, by id.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The VPC.
    pub vpc: String,
    /// Its CIDR.
    pub cidr: String,
    /// The service's subnets (`us-east-1a`, `us-east-1b`).
    pub subnets: Vec<String>,
    /// Their route table.
    pub route_table: String,
    /// The service's ARN.
    pub service_arn: String,
    /// The tasks' security group.
    pub task_security_group: String,
    /// Endpoints by dependency name (`s3`, `ecr.api`, …).
    pub endpoints: BTreeMap<String, String>,
    /// The NAT gateway, if any.
    pub nat_gateway: Option<String>,
}

/// The endpoint-only compliant VPC.
pub async fn endpoint_only(account: &Account) -> Seeded {
    let mut s = private_base(account, "endpoint-only", "10.1.0.0/16", None).await;
    let rt = s.route_table.clone();
    let s3 = gateway_endpoint(account, &s.vpc, "s3", &[rt]).await;
    s.endpoints.insert("s3".into(), s3);
    interface_endpoints(account, &mut s, &["ecr.api", "ecr.dkr", "logs"]).await;
    s
}

/// The NAT-only VPC.
pub async fn nat_only(account: &Account) -> Seeded {
    nat_only_named(account, "nat-only", 2).await
}

/// A NAT-only VPC whose service (and cluster) is called `name`, in `10.<octet>.0.0/16`: several
/// can live in one account.
pub async fn nat_only_named(account: &Account, name: &str, octet: u8) -> Seeded {
    let ec2 = account.ec2();
    let mut s = private_base(account, name, &format!("10.{octet}.0.0/16"), None).await;
    let public = subnet(
        account,
        &s.vpc,
        &format!("10.{octet}.100.0/24"),
        "us-east-1a",
    )
    .await;
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .expect("CreateInternetGateway");
    let igw = igw
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .expect("igw id")
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&s.vpc)
        .send()
        .await
        .expect("AttachInternetGateway");
    let public_rt = route_table(account, &s.vpc, std::slice::from_ref(&public)).await;
    ec2.create_route()
        .route_table_id(&public_rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .expect("CreateRoute igw");
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .expect("AllocateAddress");
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&public)
        .set_allocation_id(eip.allocation_id)
        .send()
        .await
        .expect("CreateNatGateway");
    let nat = nat
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .expect("nat id")
        .to_owned();
    ec2.create_route()
        .route_table_id(&s.route_table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat)
        .send()
        .await
        .expect("CreateRoute nat");
    s.nat_gateway = Some(nat);
    s
}

/// The broken VPC.
pub async fn broken(account: &Account) -> Seeded {
    let mut s = private_base(account, "broken", "10.3.0.0/16", Some("dynamodb")).await;
    let spare_rt = route_table(account, &s.vpc, &[]).await;
    let s3 = gateway_endpoint(account, &s.vpc, "s3", &[spare_rt]).await;
    s.endpoints.insert("s3".into(), s3);
    interface_endpoints(account, &mut s, &["ecr.api", "ecr.dkr", "logs"]).await;
    s
}

/// A VPC with DNS enabled, two private subnets sharing one route table, a task security group and
/// the ECS service (tagged `reachguard:needs` = `needs` when given).
async fn private_base(account: &Account, name: &str, cidr: &str, needs: Option<&str>) -> Seeded {
    let ec2 = account.ec2();
    let vpc = ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tags(ResourceType::Vpc, &[("Name", name)]))
        .send()
        .await
        .expect("CreateVpc");
    let vpc = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    for enable in [true, false] {
        let on = AttributeBooleanValue::builder().value(true).build();
        let req = ec2.modify_vpc_attribute().vpc_id(&vpc);
        let req = if enable {
            req.enable_dns_support(on)
        } else {
            req.enable_dns_hostnames(on)
        };
        req.send().await.expect("ModifyVpcAttribute");
    }
    let prefix = cidr.rsplitn(3, '.').last().expect("a.b of the CIDR");
    let a = subnet(account, &vpc, &format!("{prefix}.1.0/24"), "us-east-1a").await;
    let b = subnet(account, &vpc, &format!("{prefix}.2.0/24"), "us-east-1b").await;
    let subnets = vec![a, b];
    let route_table = route_table(account, &vpc, &subnets).await;
    let task_security_group = security_group(account, &vpc, &format!("{name}-tasks"), None).await;
    let service_arn = ecs_service(account, name, &subnets, &task_security_group, needs).await;
    Seeded {
        vpc,
        cidr: cidr.to_owned(),
        subnets,
        route_table,
        service_arn,
        task_security_group,
        ..Seeded::default()
    }
}

fn tags(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            pairs
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build()
}

/// Tags `resource` with `key` = `value`.
pub async fn tag(account: &Account, resource: &str, key: &str, value: &str) {
    account
        .ec2()
        .create_tags()
        .resources(resource)
        .tags(Tag::builder().key(key).value(value).build())
        .send()
        .await
        .expect("CreateTags");
}

/// A subnet.
pub async fn subnet(account: &Account, vpc: &str, cidr: &str, az: &str) -> String {
    let out = account
        .ec2()
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .send()
        .await
        .expect("CreateSubnet");
    out.subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned()
}

/// A route table associated with `subnets`.
pub async fn route_table(account: &Account, vpc: &str, subnets: &[String]) -> String {
    let ec2 = account.ec2();
    let out = ec2
        .create_route_table()
        .vpc_id(vpc)
        .send()
        .await
        .expect("CreateRouteTable");
    let rt = out
        .route_table()
        .and_then(|t| t.route_table_id())
        .expect("rtb id")
        .to_owned();
    for s in subnets {
        ec2.associate_route_table()
            .route_table_id(&rt)
            .subnet_id(s)
            .send()
            .await
            .expect("AssociateRouteTable");
    }
    rt
}

/// A security group, admitting HTTPS from `https_from` when given.
pub async fn security_group(
    account: &Account,
    vpc: &str,
    name: &str,
    https_from: Option<&str>,
) -> String {
    let ec2 = account.ec2();
    let out = ec2
        .create_security_group()
        .vpc_id(vpc)
        .group_name(name)
        .description(name)
        .send()
        .await
        .expect("CreateSecurityGroup");
    let sg = out.group_id().expect("sg id").to_owned();
    if let Some(cidr) = https_from {
        ec2.authorize_security_group_ingress()
            .group_id(&sg)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                    .build(),
            )
            .send()
            .await
            .expect("AuthorizeSecurityGroupIngress");
    }
    sg
}

/// A gateway endpoint for `dependency` on `route_tables`.
pub async fn gateway_endpoint(
    account: &Account,
    vpc: &str,
    dependency: &str,
    route_tables: &[String],
) -> String {
    let out = account
        .ec2()
        .create_vpc_endpoint()
        .vpc_id(vpc)
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .service_name(format!("com.amazonaws.{REGION}.{dependency}"))
        .set_route_table_ids(Some(route_tables.to_vec()))
        .send()
        .await
        .expect("CreateVpcEndpoint gateway");
    out.vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("vpce id")
        .to_owned()
}

/// Interface endpoints with private DNS in both subnets, behind one security group that admits
/// HTTPS from the VPC.
async fn interface_endpoints(account: &Account, s: &mut Seeded, dependencies: &[&str]) {
    let sg = security_group(account, &s.vpc, "endpoints", Some(&s.cidr)).await;
    for dep in dependencies {
        let id = interface_endpoint(account, &s.vpc, dep, &s.subnets, &sg, true).await;
        s.endpoints.insert((*dep).to_owned(), id);
    }
}

/// An interface endpoint.
pub async fn interface_endpoint(
    account: &Account,
    vpc: &str,
    dependency: &str,
    subnets: &[String],
    security_group: &str,
    private_dns: bool,
) -> String {
    let out = account
        .ec2()
        .create_vpc_endpoint()
        .vpc_id(vpc)
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .service_name(format!("com.amazonaws.{REGION}.{dependency}"))
        .set_subnet_ids(Some(subnets.to_vec()))
        .security_group_ids(security_group)
        .private_dns_enabled(private_dns)
        .send()
        .await
        .expect("CreateVpcEndpoint interface");
    out.vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("vpce id")
        .to_owned()
}

/// A Fargate service in its own cluster `name`, pulling from this account's ECR and logging to
/// CloudWatch Logs.
pub async fn ecs_service(
    account: &Account,
    name: &str,
    subnets: &[String],
    security_group: &str,
    needs: Option<&str>,
) -> String {
    let task_definition = cluster_with_task_definition(account, name).await;
    let mut service = fargate_service(
        account,
        name,
        "api",
        &task_definition,
        subnets.to_vec(),
        security_group,
    );
    if let Some(needs) = needs {
        service = service.tags(
            EcsTag::builder()
                .key("reachguard:needs")
                .value(needs)
                .build(),
        );
    }
    service_arn(service).await
}

/// Creates cluster `name` and registers its Fargate task definition (family `name`, running
/// [`container`]); returns the task definition's ARN.
pub async fn cluster_with_task_definition(account: &Account, name: &str) -> String {
    let ecs = account.ecs();
    ecs.create_cluster()
        .cluster_name(name)
        .send()
        .await
        .expect("CreateCluster");
    let out = ecs
        .register_task_definition()
        .family(name)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(container(account, name))
        .send()
        .await
        .expect("RegisterTaskDefinition");
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("task definition arn")
        .to_owned()
}

/// The `CreateService` request for Fargate service `service` of `cluster`: one task of
/// `task_definition` in `subnets` with `security_group`, no public IP (tags may be added before
/// [`service_arn`] sends it).
pub fn fargate_service(
    account: &Account,
    cluster: &str,
    service: &str,
    task_definition: &str,
    subnets: Vec<String>,
    security_group: &str,
) -> CreateServiceFluentBuilder {
    account
        .ecs()
        .create_service()
        .cluster(cluster)
        .service_name(service)
        .task_definition(task_definition)
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(subnets))
                        .security_groups(security_group)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .expect("awsvpc configuration"),
                )
                .build(),
        )
}

/// Sends a [`fargate_service`] request; returns the service's ARN.
pub async fn service_arn(request: CreateServiceFluentBuilder) -> String {
    let out = request.send().await.expect("CreateService");
    out.service()
        .and_then(|s| s.service_arn())
        .expect("service arn")
        .to_owned()
}

/// The container every seeded task runs: image `<account>.dkr.ecr.<region>.amazonaws.com/<name>:1`,
/// logs to CloudWatch Logs group `/ecs/<name>`.
pub fn container(account: &Account, name: &str) -> ContainerDefinition {
    ContainerDefinition::builder()
        .name("app")
        .image(format!(
            "{}.dkr.ecr.{REGION}.amazonaws.com/{name}:1",
            account.id
        ))
        .cpu(256)
        .memory(512)
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", format!("/ecs/{name}"))
                .options("awslogs-region", REGION)
                .build()
                .expect("log configuration"),
        )
        .build()
}

/// The ids of `account`'s endpoints for `dependency` in `vpc` (any state).
pub async fn endpoints_for(
    account: &Account,
    vpc: &str,
    dependency: &str,
) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
    let out = account
        .ec2()
        .describe_vpc_endpoints()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(
            Filter::builder()
                .name("service-name")
                .values(format!("com.amazonaws.{REGION}.{dependency}"))
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcEndpoints");
    out.vpc_endpoints().to_vec()
}

/// Puts NAT gateway metrics (`AWS/NATGateway`, dimension `NatGatewayId`) for `nat`: each
/// `(metric, minutes ago, value)` is one data point at that whole minute before now.
pub async fn nat_metrics(account: &Account, nat: &str, points: &[(&str, u64, f64)]) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let minute = now - now % 60;
    let data: Vec<MetricDatum> = points
        .iter()
        .map(|&(metric, minutes_ago, value)| {
            let at = i64::try_from(minute - minutes_ago * 60).expect("timestamp");
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(Dimension::builder().name("NatGatewayId").value(nat).build())
                .timestamp(DateTime::from_secs(at))
                .value(value)
                .build()
        })
        .collect();
    account
        .cloudwatch()
        .put_metric_data()
        .namespace("AWS/NATGateway")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData");
}
