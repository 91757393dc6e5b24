//! Which action fixes a finding (the remediation catalog): the builders the rules call.

use crate::action::Action;
use crate::evaluation::Evaluation;
use std::collections::BTreeMap;

use crate::model::{Endpoint, EndpointKind};
use crate::paths;

/// `create-gateway-endpoint` for `dependency` in `vpc`, on the route tables of the service
/// subnets that need it.
pub fn create_gateway_endpoint(eval: &Evaluation<'_>, vpc: &str, dependency: &str) -> Action {
    let mut route_tables: Vec<String> = eval
        .paths_in(vpc)
        .filter(|p| p.dependency == dependency)
        .filter_map(|p| p.path.route_table.map(|t| t.id.clone()))
        .collect();
    route_tables.sort();
    route_tables.dedup();
    Action::CreateGatewayEndpoint {
        vpc: vpc.to_string(),
        service_name: service_name(&eval.topology.region, dependency),
        route_tables,
    }
}

/// `associate-gateway-endpoint` for `route_table`: the first of the VPC's gateway endpoints for
/// `dependency` whose policy allows what the route table's subnets need (the ECR layer download
/// when any of them pulls from ECR); `None` when none does.
pub fn associate_gateway_endpoint<'t>(
    eval: &Evaluation<'t>,
    vpc: &str,
    dependency: &str,
    route_table: &str,
) -> Option<(&'t Endpoint, Action)> {
    let needs_layers = dependency == "s3"
        && eval.paths_in(vpc).any(|p| {
            p.dependency == "s3"
                && p.path.route_table.is_some_and(|t| t.id == route_table)
                && eval.service_of(p).deps.ecr_layers
        });
    let mut candidates: Vec<&Endpoint> = eval
        .topology
        .available_endpoints(vpc, EndpointKind::Gateway, dependency)
        .collect();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    candidates
        .into_iter()
        .find(|e| !needs_layers || paths::allows_ecr_layers(e, &eval.topology.region))
        .map(|e| {
            let action = Action::AssociateGatewayEndpoint {
                endpoint: e.id.clone(),
                route_table: route_table.to_string(),
            };
            (e, action)
        })
}

/// `create-interface-endpoint` for `dependency` in `vpc`: one subnet per AZ its services use, a
/// security group admitting 443 from the VPC CIDR. `None` when the VPC CIDR is unknown.
pub fn create_interface_endpoint(
    eval: &Evaluation<'_>,
    vpc: &str,
    dependency: &str,
) -> Option<Action> {
    let cidr = eval.topology.vpc(vpc)?.cidr?;
    let mut per_az: BTreeMap<&str, &str> = BTreeMap::new();
    for p in eval.paths_in(vpc).filter(|p| p.dependency == dependency) {
        let chosen = per_az
            .entry(p.subnet.az.as_str())
            .or_insert(p.subnet.id.as_str());
        if p.subnet.id.as_str() < *chosen {
            *chosen = p.subnet.id.as_str();
        }
    }
    Some(Action::CreateInterfaceEndpoint {
        vpc: vpc.to_string(),
        service_name: service_name(&eval.topology.region, dependency),
        subnets: per_az.into_values().map(str::to_string).collect(),
        allow_https_from: cidr.to_string(),
    })
}

/// `com.amazonaws.<region>.<dependency>`.
pub fn service_name(region: &str, dependency: &str) -> String {
    format!("com.amazonaws.{region}.{dependency}")
}
