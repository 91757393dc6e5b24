//! Which path captures a subnet's traffic to a dependency: a gateway endpoint, an interface
//! endpoint with private DNS, else the default route.

use super::judge::{
    acl_break_outside, default_route_break, gateway_endpoint_break, interface_endpoint_break,
};
use super::{Break, Origin, Path, Via};
use crate::model::{Endpoint, EndpointKind, RouteTable, Topology};

/// Evaluates the path from `origin` to `dependency`. `ecr_layers`: the dependency is `s3` for the
/// ECR layer download (no interface endpoint counts; the gateway endpoint policy must allow it).
pub fn evaluate<'t>(
    topology: &'t Topology,
    origin: Origin<'t>,
    dependency: &str,
    ecr_layers: bool,
) -> Path<'t> {
    let Some(route_table) = topology.route_table_of(origin.subnet) else {
        return Path {
            route_table: None,
            via: Via::Nothing,
            broken: Some(Break::NoRouteTable),
        };
    };
    let vpc = origin.subnet.vpc.as_str();
    let path = |via, broken| Path {
        route_table: Some(route_table),
        via,
        broken,
    };
    let layers = ecr_layers && dependency == "s3";
    if let Some(endpoint) = capturing_gateway_endpoint(topology, vpc, route_table, dependency) {
        let broken = gateway_endpoint_break(topology, endpoint, layers)
            .or_else(|| acl_break_outside(topology, origin.subnet));
        return path(Via::GatewayEndpoint(endpoint), broken);
    }
    if !layers && let Some(endpoint) = capturing_interface_endpoint(topology, vpc, dependency) {
        let broken = interface_endpoint_break(topology, origin, endpoint);
        return path(Via::InterfaceEndpoint(endpoint), broken);
    }
    let Some(route) = route_table.default_route() else {
        return path(Via::Nothing, Some(Break::NoDefaultRoute));
    };
    let broken = default_route_break(topology, origin, route)
        .or_else(|| acl_break_outside(topology, origin.subnet));
    path(Via::DefaultRoute(route), broken)
}

/// The available gateway endpoint for `dependency` associated with `route_table`, if any.
pub fn capturing_gateway_endpoint<'t>(
    topology: &'t Topology,
    vpc: &str,
    route_table: &RouteTable,
    dependency: &str,
) -> Option<&'t Endpoint> {
    topology
        .available_endpoints(vpc, EndpointKind::Gateway, dependency)
        .find(|e| e.route_tables.contains(&route_table.id))
}

/// The available interface endpoint for `dependency` whose private DNS is effective in the VPC.
pub fn capturing_interface_endpoint<'t>(
    topology: &'t Topology,
    vpc: &str,
    dependency: &str,
) -> Option<&'t Endpoint> {
    let dns = topology
        .vpc(vpc)
        .is_none_or(|v| v.dns_support && v.dns_hostnames);
    if !dns {
        return None;
    }
    topology
        .available_endpoints(vpc, EndpointKind::Interface, dependency)
        .find(|e| e.private_dns)
}
