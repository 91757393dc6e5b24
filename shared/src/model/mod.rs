//! The connectivity model: the snapshot document validated, normalised (states, route targets,
//! ports, CIDRs) and indexed so that every lookup during evaluation is a hash probe.
//!
//! It owns the meaning of AWS's shapes (what "associated", "available" or "main" mean); it does
//! not decide reachability ([`crate::paths`]) or compliance ([`crate::rules`]).
//!
//! - `types`: the model's structs and enums;
//! - `lower`: [`Topology::from_snapshot`], the snapshot document validated and lowered to them;
//! - `index`: the [`Topology`]'s lookup maps and the lookups that use them.

mod index;
mod lower;
mod types;

pub use lower::short_service_name;
pub use types::{
    AclEntry, Endpoint, EndpointKind, Ingress, InternetGateway, Launch, NatGateway, NetworkAcl,
    Route, RouteTable, RouteTarget, SecurityGroup, Service, Subnet, Topology, Vpc,
};
