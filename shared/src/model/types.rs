//! The model's types: what reachguard knows about VPCs, their networking and ECS services.

use super::index::Index;
use crate::nat_metrics::NatMetrics;
use crate::net::{Ipv4Cidr, Ports};
use crate::policy::EndpointPolicy;
use crate::snapshot;
use crate::tags::Tags;

/// A VPC and its DNS attributes.
#[derive(Debug, Clone)]
pub struct Vpc {
    /// `vpc-…`.
    pub id: String,
    /// Primary IPv4 CIDR, when known.
    pub cidr: Option<Ipv4Cidr>,
    /// `enableDnsSupport` (unknown counts as enabled).
    pub dns_support: bool,
    /// `enableDnsHostnames` (unknown counts as enabled).
    pub dns_hostnames: bool,
    /// Tags.
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// `subnet-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// IPv4 CIDR.
    pub cidr: Ipv4Cidr,
    /// Availability zone name.
    pub az: String,
    /// Tags.
    pub tags: Tags,
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// Within the VPC.
    Local,
    /// `igw-…`.
    InternetGateway(String),
    /// `nat-…`.
    NatGateway(String),
    /// `vpce-…` (a gateway endpoint's prefix-list route).
    GatewayEndpoint(String),
    /// Transit gateway, peering, virtual private gateway, ENI, instance, local/carrier gateway,
    /// Cloud WAN: beyond what the VPC shows; assumed to work.
    Beyond {
        /// What kind of target, for messages (`transit gateway`, …).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// Egress-only internet gateway (IPv6 only): never carries IPv4.
    EgressOnly(String),
    /// No target recorded.
    Unknown,
}

impl RouteTarget {
    /// The target's id (or `local`).
    pub fn id(&self) -> &str {
        match self {
            RouteTarget::Local => "local",
            RouteTarget::InternetGateway(id)
            | RouteTarget::NatGateway(id)
            | RouteTarget::GatewayEndpoint(id)
            | RouteTarget::EgressOnly(id)
            | RouteTarget::Beyond { id, .. } => id,
            RouteTarget::Unknown => "(no target)",
        }
    }
}

/// A route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Destination as printed (CIDR or prefix-list id), the `destination` of findings.
    pub destination: String,
    /// True for the IPv4 default route `0.0.0.0/0`.
    pub is_default: bool,
    /// Where it goes.
    pub target: RouteTarget,
    /// State `blackhole` (a deleted target).
    pub blackhole: bool,
}

/// A route table.
#[derive(Debug, Clone)]
pub struct RouteTable {
    /// `rtb-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// The VPC's main route table.
    pub main: bool,
    /// Explicitly associated subnets.
    pub subnets: Vec<String>,
    /// Routes.
    pub routes: Vec<Route>,
    /// Tags.
    pub tags: Tags,
}

impl RouteTable {
    /// The active or blackholed `0.0.0.0/0` route.
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.is_default)
    }
}

/// Gateway or interface endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Route-table based (S3, DynamoDB).
    Gateway,
    /// ENI based (PrivateLink).
    Interface,
    /// Gateway Load Balancer and others: not a path to an AWS service.
    Other,
}

/// A VPC endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `vpce-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// Gateway, interface, …
    pub kind: EndpointKind,
    /// Short service name (`ecr.dkr`, `s3`), the dependency it serves.
    pub service: String,
    /// Full service name (`com.amazonaws.us-east-1.ecr.dkr`).
    pub service_name: String,
    /// Only `available` endpoints count.
    pub available: bool,
    /// State as reported.
    pub state: String,
    /// Endpoint policy; `None` allows everything.
    pub policy: Option<EndpointPolicy>,
    /// Gateway: associated route tables.
    pub route_tables: Vec<String>,
    /// Interface: subnets (one per AZ).
    pub subnets: Vec<String>,
    /// Interface: security groups.
    pub security_groups: Vec<String>,
    /// Interface: private DNS.
    pub private_dns: bool,
    /// Tags.
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Debug, Clone)]
pub struct NatGateway {
    /// `nat-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// Its own subnet (zonal).
    pub subnet: Option<String>,
    /// State `available`.
    pub available: bool,
    /// State as reported.
    pub state: String,
    /// `ConnectivityType` public (missing means public).
    pub public: bool,
    /// `AvailabilityMode` regional: serves every AZ, needs no public subnet.
    pub regional: bool,
    /// A destination-filtering appliance (`network-firewall-proxy`) is attached.
    pub filtered: bool,
    /// Tags.
    pub tags: Tags,
}

/// An internet gateway.
#[derive(Debug, Clone)]
pub struct InternetGateway {
    /// `igw-…`.
    pub id: String,
    /// VPCs it is attached to.
    pub vpcs: Vec<String>,
}

/// One ingress rule of a security group, as far as TCP 443 is concerned.
#[derive(Debug, Clone)]
pub struct Ingress {
    /// Ports admitted (`None`: the rule is for another protocol).
    pub ports: Option<Ports>,
    /// Source CIDRs.
    pub cidrs: Vec<Ipv4Cidr>,
    /// Source security groups.
    pub groups: Vec<String>,
}

/// A security group.
#[derive(Debug, Clone)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub id: String,
    /// Ingress rules.
    pub ingress: Vec<Ingress>,
}

/// A network ACL entry.
#[derive(Debug, Clone)]
pub struct AclEntry {
    /// Evaluation order; 32767 is the final `*`.
    pub rule_number: i64,
    /// Allow or deny.
    pub allow: bool,
    /// TCP ports matched (`None`: protocol is neither `-1` nor TCP, so never matches).
    pub ports: Option<Ports>,
    /// IPv4 CIDR (`None` for IPv6 entries, which never match).
    pub cidr: Option<Ipv4Cidr>,
}

/// A network ACL.
#[derive(Debug, Clone)]
pub struct NetworkAcl {
    /// `acl-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// The VPC's default ACL.
    pub default: bool,
    /// Associated subnets.
    pub subnets: Vec<String>,
    /// Inbound entries in rule-number order.
    pub inbound: Vec<AclEntry>,
    /// Outbound entries in rule-number order.
    pub outbound: Vec<AclEntry>,
    /// Tags.
    pub tags: Tags,
}

/// How a service's tasks are launched, as far as dependencies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// EC2 launch type or an Auto Scaling capacity provider: needs the ECS agent endpoints.
    Ec2,
    /// Fargate only.
    Fargate,
    /// ECS Anywhere: out of scope.
    External,
}

/// An ECS service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Service ARN.
    pub arn: String,
    /// `ACTIVE` with `awsvpc` networking and not EXTERNAL: the only services rules consider.
    pub in_scope: bool,
    /// Launch kind.
    pub launch: Launch,
    /// Task subnets.
    pub subnets: Vec<String>,
    /// Task security groups.
    pub security_groups: Vec<String>,
    /// `assignPublicIp: ENABLED`.
    pub public_ip: bool,
    /// ECS Exec.
    pub exec: bool,
    /// Task definition ARN.
    pub task_definition: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// Everything reachguard knows about one account/region, indexed.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Region (from the snapshot, else derived from the subnets' AZs).
    pub region: String,
    /// Account id, when known.
    pub account: Option<String>,
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Route tables.
    pub route_tables: Vec<RouteTable>,
    /// VPC endpoints.
    pub endpoints: Vec<Endpoint>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGateway>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Security groups.
    pub security_groups: Vec<SecurityGroup>,
    /// Network ACLs; `None` when the input had none (no restrictions assumed).
    pub network_acls: Option<Vec<NetworkAcl>>,
    /// ECS services (all of them; see [`Service::in_scope`]).
    pub services: Vec<Service>,
    /// Task definitions, as documents.
    pub task_definitions: Vec<snapshot::TaskDefinition>,
    /// Soft problems (a referenced id missing from the input), reported beside findings.
    pub warnings: Vec<String>,
    /// CloudWatch figures of the NAT gateways, when the snapshot has them.
    pub nat_metrics: Option<NatMetrics>,
    pub(super) index: Index,
}
