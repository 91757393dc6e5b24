//! How a subnet reaches a dependency: which path captures the traffic (gateway
//! endpoint, interface endpoint with private DNS, else the default route), and whether that path
//! works (endpoint policy, security groups, NAT/IGW, network ACLs). Pure: reads a
//! [`Topology`](crate::model::Topology).
//!
//! Evaluation returns a compact [`Path`] of references; text is only built ([`Path::report`])
//! for the paths that end up in a finding.
//!
//! - `capture`: [`evaluate`], which path captures the traffic;
//! - `judge`: whether that path works, and the checks rules reuse ([`nat_break`], …);
//! - `describe`: the path and its break in words ([`PathReport`]).

mod capture;
mod describe;
mod judge;

pub use capture::{capturing_gateway_endpoint, capturing_interface_endpoint, evaluate};
pub use describe::PathReport;
pub use judge::{allows_ecr_layers, ecr_layer_bucket, nat_break, security_groups_admit};

use crate::model::{Endpoint, NatGateway, NetworkAcl, Route, RouteTable, Subnet};
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

impl<'t> Path<'t> {
    /// True when the path works.
    pub fn works(&self) -> bool {
        self.broken.is_none()
    }
}
