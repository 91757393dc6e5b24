//! Changes to a snapshot document, as `reachguard impact` names them, applied the way AWS
//! applies them.
//!
//! **Deletion** of a resource id: `vpce-…` (its gateway routes go too), `nat-…` and `igw-…`
//! (routes to them become `blackhole`), `rtb-…` (its subnets fall back to the main table),
//! a route `rtb-…:DESTINATION`, `subnet-…`, `sg-…` (and every reference to it), a security group
//! ingress permission `sg-…:ingress:N` (0-based, in `IpPermissions` order), `acl-…` (its subnets
//! fall back to the default ACL), a network ACL entry `acl-…:ingress:RULE` / `acl-…:egress:RULE`,
//! and an ECS service (ARN or name).
//!
//! **Modification**, `RESOURCE:KEY=VALUE` (lists comma-separated, switches `on`/`off`):
//!
//! | resource | key | value |
//! | --- | --- | --- |
//! | `vpce-…` | `private-dns` | `on` / `off` |
//! | `vpce-…` | `security-groups`, `subnets`, `route-tables` | ids |
//! | `vpc-…` | `dns-support`, `dns-hostnames` | `on` / `off` |
//! | `rtb-…:DESTINATION` | `target` | `nat-…`, `igw-…`, `vpce-…`, `tgw-…`, `pcx-…`, `eni-…`, … |
//! | `subnet-…` | `route-table` | `rtb-…` |
//! | `subnet-…` | `network-acl` | `acl-…` |
//! | ECS service | `subnets`, `security-groups` | ids |

use std::fmt;
use std::str::FromStr;

use super::{Edited, NotEvaluated, WhatIfError};
use crate::names::public_names;
use crate::snapshot::{
    AttributeBoolean, AwsVpcConfiguration, EcsService, Route, RouteTableAssociation,
    SecurityGroupIdentifier, Snapshot, VpcAttributes, VpcEndpoint,
};

/// An attribute `--change` can set.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Key {
    /// An interface endpoint's private DNS.
    PrivateDns,
    /// An endpoint's or a service's security groups.
    SecurityGroups,
    /// An interface endpoint's or a service's subnets.
    Subnets,
    /// A gateway endpoint's route tables.
    RouteTables,
    /// A VPC's `enableDnsSupport`.
    DnsSupport,
    /// A VPC's `enableDnsHostnames`.
    DnsHostnames,
    /// A route's target.
    Target,
    /// A subnet's route table association.
    RouteTable,
    /// A subnet's network ACL association.
    NetworkAcl,
}

public_names!(Key, "change key");

/// One change to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Delete the resource with this id.
    Delete(String),
    /// Set one attribute (`RESOURCE:KEY=VALUE`).
    Set {
        /// The resource id (`rtb-…:DESTINATION` for a route).
        resource: String,
        /// The attribute.
        key: Key,
        /// The new value as written.
        value: String,
    },
}

impl FromStr for Change {
    type Err = WhatIfError;

    /// Reads the `--change` form `RESOURCE:KEY=VALUE`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| WhatIfError::BadChange {
            change: text.to_string(),
            reason,
        };
        let (left, value) = text
            .split_once('=')
            .ok_or_else(|| bad("expected RESOURCE:KEY=VALUE".to_string()))?;
        let (resource, key) = left
            .rsplit_once(':')
            .ok_or_else(|| bad("expected RESOURCE:KEY=VALUE".to_string()))?;
        if resource.is_empty() || value.is_empty() {
            return Err(bad("expected RESOURCE:KEY=VALUE".to_string()));
        }
        Ok(Change::Set {
            resource: resource.to_string(),
            key: key.parse().map_err(bad)?,
            value: value.to_string(),
        })
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Delete(id) => write!(f, "delete {id}"),
            Change::Set {
                resource,
                key,
                value,
            } => write!(f, "set {resource}:{}={value}", key.as_str()),
        }
    }
}

/// The result of applying one change that named an existing resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to the document.
    Applied,
    /// Recognised but not simulated, with the reason.
    NotEvaluated(String),
}

/// Applies `changes` in order to a copy of `doc`. An id the document lacks, or a change that
/// does not fit its resource, is an error (nothing is evaluated).
pub fn apply(doc: &Snapshot, changes: &[Change]) -> Result<Edited, WhatIfError> {
    let mut edited = Edited {
        snapshot: doc.clone(),
        ..Edited::default()
    };
    for change in changes {
        let outcome = match change {
            Change::Delete(id) => delete(&mut edited.snapshot, id)?,
            Change::Set {
                resource,
                key,
                value,
            } => set(&mut edited.snapshot, resource, *key, value)
                .map(|()| Outcome::Applied)
                .map_err(|e| match e {
                    SetError::Unknown(id) => WhatIfError::UnknownResource { id },
                    SetError::Invalid(reason) => WhatIfError::BadChange {
                        change: change.to_string(),
                        reason,
                    },
                })?,
        };
        match outcome {
            Outcome::Applied => edited.applied.push(change.to_string()),
            Outcome::NotEvaluated(reason) => edited.not_evaluated.push(NotEvaluated {
                resource: change.to_string(),
                reason,
            }),
        }
    }
    Ok(edited)
}

/// A resource of the document, located by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resource {
    Vpc,
    Subnet,
    RouteTable,
    Route {
        table: String,
        destination: String,
    },
    Endpoint,
    NatGateway,
    InternetGateway,
    SecurityGroup,
    IngressPermission {
        group: String,
        index: usize,
    },
    NetworkAcl,
    AclEntry {
        acl: String,
        egress: bool,
        rule: i64,
    },
    Service(String),
}

/// What `id` names in `doc`, if anything.
pub(crate) fn locate(doc: &Snapshot, id: &str) -> Option<Resource> {
    if !id.starts_with("arn:")
        && let Some((base, rest)) = id.split_once(':')
    {
        return locate_part(doc, base, rest);
    }
    let has = |found: bool, kind: Resource| found.then_some(kind);
    has(doc.vpcs.iter().any(|v| v.vpc_id == id), Resource::Vpc)
        .or_else(|| {
            has(
                doc.subnets.iter().any(|s| s.subnet_id == id),
                Resource::Subnet,
            )
        })
        .or_else(|| {
            has(
                doc.route_tables.iter().any(|t| t.route_table_id == id),
                Resource::RouteTable,
            )
        })
        .or_else(|| {
            has(
                doc.vpc_endpoints.iter().any(|e| e.vpc_endpoint_id == id),
                Resource::Endpoint,
            )
        })
        .or_else(|| {
            has(
                doc.nat_gateways.iter().any(|n| n.nat_gateway_id == id),
                Resource::NatGateway,
            )
        })
        .or_else(|| {
            has(
                doc.internet_gateways
                    .iter()
                    .any(|g| g.internet_gateway_id == id),
                Resource::InternetGateway,
            )
        })
        .or_else(|| {
            has(
                doc.security_groups.iter().any(|g| g.group_id == id),
                Resource::SecurityGroup,
            )
        })
        .or_else(|| {
            has(
                doc.network_acls
                    .iter()
                    .flatten()
                    .any(|a| a.network_acl_id == id),
                Resource::NetworkAcl,
            )
        })
        .or_else(|| service_arn(doc, id).map(Resource::Service))
}

/// A route, security group permission or ACL entry: `BASE:REST`.
fn locate_part(doc: &Snapshot, base: &str, rest: &str) -> Option<Resource> {
    if let Some(table) = doc.route_tables.iter().find(|t| t.route_table_id == base) {
        return table
            .routes
            .iter()
            .any(|r| destination(r) == Some(rest))
            .then(|| Resource::Route {
                table: base.to_string(),
                destination: rest.to_string(),
            });
    }
    let (direction, number) = rest.split_once(':')?;
    if let Some(group) = doc.security_groups.iter().find(|g| g.group_id == base) {
        let index: usize = number.parse().ok()?;
        return (direction == "ingress" && index < group.ip_permissions.len()).then(|| {
            Resource::IngressPermission {
                group: base.to_string(),
                index,
            }
        });
    }
    let acl = doc
        .network_acls
        .iter()
        .flatten()
        .find(|a| a.network_acl_id == base)?;
    let egress = match direction {
        "ingress" => false,
        "egress" => true,
        _ => return None,
    };
    let rule: i64 = number.parse().ok()?;
    acl.entries
        .iter()
        .any(|e| e.egress == egress && e.rule_number == rule)
        .then(|| Resource::AclEntry {
            acl: base.to_string(),
            egress,
            rule,
        })
}

/// The ARN of the service named by ARN or by (unique) service name.
fn service_arn(doc: &Snapshot, id: &str) -> Option<String> {
    let mut matching = doc
        .services
        .iter()
        .filter(|s| s.service_arn == id || s.service_name.as_deref() == Some(id));
    let first = matching.next()?;
    matching.next().is_none().then(|| first.service_arn.clone())
}

/// A route's destination as written in ids (`0.0.0.0/0`, `pl-…`, an IPv6 CIDR).
pub(crate) fn destination(route: &Route) -> Option<&str> {
    route
        .destination_cidr_block
        .as_deref()
        .or(route.destination_prefix_list_id.as_deref())
        .or(route.destination_ipv6_cidr_block.as_deref())
}

/// Deletes the resource `id` names, as AWS would (see the module documentation).
pub fn delete(doc: &mut Snapshot, id: &str) -> Result<Outcome, WhatIfError> {
    let resource = locate(doc, id).ok_or_else(|| WhatIfError::UnknownResource { id: id.into() })?;
    Ok(match resource {
        Resource::Vpc => Outcome::NotEvaluated(
            "deleting a whole VPC is not simulated: name the resources in it instead".into(),
        ),
        Resource::Subnet => {
            delete_subnet(doc, id);
            Outcome::Applied
        }
        Resource::RouteTable => return Ok(delete_route_table(doc, id)),
        Resource::Route { table, destination } => {
            delete_route(doc, &table, &destination);
            Outcome::Applied
        }
        Resource::Endpoint => {
            delete_endpoint(doc, id);
            Outcome::Applied
        }
        Resource::NatGateway => {
            doc.nat_gateways.retain(|n| n.nat_gateway_id != id);
            blackhole_routes_to(doc, id);
            Outcome::Applied
        }
        Resource::InternetGateway => {
            doc.internet_gateways
                .retain(|g| g.internet_gateway_id != id);
            blackhole_routes_to(doc, id);
            Outcome::Applied
        }
        Resource::SecurityGroup => {
            delete_security_group(doc, id);
            Outcome::Applied
        }
        Resource::IngressPermission { group, index } => {
            if let Some(g) = doc.security_groups.iter_mut().find(|g| g.group_id == group) {
                g.ip_permissions.remove(index);
            }
            Outcome::Applied
        }
        Resource::NetworkAcl => return Ok(delete_network_acl(doc, id)),
        Resource::AclEntry { acl, egress, rule } => {
            delete_acl_entry(doc, &acl, egress, rule);
            Outcome::Applied
        }
        Resource::Service(arn) => {
            doc.services.retain(|s| s.service_arn != arn);
            Outcome::Applied
        }
    })
}

/// Removes a subnet and every association naming it (services keep naming it: their tasks
/// there have nowhere to run, which `check` reports as a warning).
pub(crate) fn delete_subnet(doc: &mut Snapshot, id: &str) {
    doc.subnets.retain(|s| s.subnet_id != id);
    disassociate_route_table(doc, id);
    for acl in doc.network_acls.iter_mut().flatten() {
        acl.associations.retain(|a| a.subnet_id != id);
    }
    for endpoint in &mut doc.vpc_endpoints {
        endpoint.subnet_ids.retain(|s| s != id);
    }
}

/// Removes a route table (its subnets fall back to the main table); the main table cannot go.
pub(crate) fn delete_route_table(doc: &mut Snapshot, id: &str) -> Outcome {
    let is_main = doc
        .route_tables
        .iter()
        .any(|t| t.route_table_id == id && t.associations.iter().any(|a| a.main));
    if is_main {
        return Outcome::NotEvaluated(
            "a VPC's main route table cannot be deleted (make another table main first)".into(),
        );
    }
    doc.route_tables.retain(|t| t.route_table_id != id);
    for endpoint in &mut doc.vpc_endpoints {
        endpoint.route_table_ids.retain(|t| t != id);
    }
    Outcome::Applied
}

/// Removes the route to `destination` from `table`.
pub(crate) fn delete_route(doc: &mut Snapshot, table: &str, destination_id: &str) {
    if let Some(t) = doc
        .route_tables
        .iter_mut()
        .find(|t| t.route_table_id == table)
    {
        t.routes.retain(|r| destination(r) != Some(destination_id));
    }
}

/// Removes an endpoint and the prefix-list routes AWS manages for it.
pub(crate) fn delete_endpoint(doc: &mut Snapshot, id: &str) {
    doc.vpc_endpoints.retain(|e| e.vpc_endpoint_id != id);
    for table in &mut doc.route_tables {
        table.routes.retain(|r| r.gateway_id.as_deref() != Some(id));
    }
}

/// Routes to a deleted NAT or internet gateway stay, as `blackhole`.
pub(crate) fn blackhole_routes_to(doc: &mut Snapshot, id: &str) {
    for route in doc.route_tables.iter_mut().flat_map(|t| &mut t.routes) {
        if route.nat_gateway_id.as_deref() == Some(id) || route.gateway_id.as_deref() == Some(id) {
            route.state = Some("blackhole".into());
        }
    }
}

/// Removes a security group and every reference to it.
pub(crate) fn delete_security_group(doc: &mut Snapshot, id: &str) {
    doc.security_groups.retain(|g| g.group_id != id);
    for endpoint in &mut doc.vpc_endpoints {
        endpoint.groups.retain(|g| g.group_id != id);
    }
    for config in doc.services.iter_mut().filter_map(awsvpc) {
        config.security_groups.retain(|g| g != id);
    }
    for permission in doc
        .security_groups
        .iter_mut()
        .flat_map(|g| &mut g.ip_permissions)
    {
        permission
            .user_id_group_pairs
            .retain(|p| p.group_id.as_deref() != Some(id));
    }
}

/// Removes a network ACL (its subnets fall back to the default ACL); the default cannot go.
pub(crate) fn delete_network_acl(doc: &mut Snapshot, id: &str) -> Outcome {
    let acls = doc.network_acls.get_or_insert_with(Vec::new);
    if acls.iter().any(|a| a.network_acl_id == id && a.is_default) {
        return Outcome::NotEvaluated("a VPC's default network ACL cannot be deleted".into());
    }
    acls.retain(|a| a.network_acl_id != id);
    Outcome::Applied
}

/// Removes one entry of a network ACL.
pub(crate) fn delete_acl_entry(doc: &mut Snapshot, acl: &str, egress: bool, rule: i64) {
    for a in doc
        .network_acls
        .iter_mut()
        .flatten()
        .filter(|a| a.network_acl_id == acl)
    {
        a.entries
            .retain(|e| !(e.egress == egress && e.rule_number == rule));
    }
}

/// Removes a subnet's explicit route table association (it falls back to the main table).
pub(crate) fn disassociate_route_table(doc: &mut Snapshot, subnet: &str) {
    for table in &mut doc.route_tables {
        table
            .associations
            .retain(|a| a.subnet_id.as_deref() != Some(subnet));
    }
}

/// Associates a subnet with a route table, replacing its previous explicit association.
pub(crate) fn associate_route_table(doc: &mut Snapshot, subnet: &str, table: &str) {
    disassociate_route_table(doc, subnet);
    if let Some(t) = doc
        .route_tables
        .iter_mut()
        .find(|t| t.route_table_id == table)
    {
        t.associations.push(RouteTableAssociation {
            subnet_id: Some(subnet.to_string()),
            ..RouteTableAssociation::default()
        });
    }
}

/// Associates a subnet with a network ACL, replacing its previous association.
pub(crate) fn associate_network_acl(doc: &mut Snapshot, subnet: &str, acl: &str) {
    for a in doc.network_acls.iter_mut().flatten() {
        a.associations.retain(|s| s.subnet_id != subnet);
        if a.network_acl_id == acl {
            a.associations.push(crate::snapshot::NetworkAclAssociation {
                subnet_id: subnet.to_string(),
                network_acl_association_id: None,
            });
        }
    }
}

/// Sets a VPC DNS attribute.
pub(crate) fn set_vpc_dns(doc: &mut Snapshot, vpc: &str, key: Key, on: bool) {
    let index = match doc.vpc_attributes.iter().position(|a| a.vpc_id == vpc) {
        Some(index) => index,
        None => {
            doc.vpc_attributes.push(VpcAttributes {
                vpc_id: vpc.to_string(),
                ..VpcAttributes::default()
            });
            doc.vpc_attributes.len() - 1
        }
    };
    let attributes = &mut doc.vpc_attributes[index];
    let value = Some(AttributeBoolean { value: on });
    if key == Key::DnsSupport {
        attributes.enable_dns_support = value;
    } else {
        attributes.enable_dns_hostnames = value;
    }
}

/// Points a route at `target`, choosing the route field from the id's prefix.
pub(crate) fn set_route_target(route: &mut Route, target: &str) {
    *route = Route {
        destination_cidr_block: route.destination_cidr_block.take(),
        destination_ipv6_cidr_block: route.destination_ipv6_cidr_block.take(),
        destination_prefix_list_id: route.destination_prefix_list_id.take(),
        ..Route::default()
    };
    let slot = match target.split('-').next() {
        Some("nat") => &mut route.nat_gateway_id,
        Some("tgw") => &mut route.transit_gateway_id,
        Some("pcx") => &mut route.vpc_peering_connection_id,
        Some("eni") => &mut route.network_interface_id,
        Some("i") => &mut route.instance_id,
        Some("eigw") => &mut route.egress_only_internet_gateway_id,
        Some("lgw") => &mut route.local_gateway_id,
        Some("cagw") => &mut route.carrier_gateway_id,
        _ => &mut route.gateway_id,
    };
    *slot = Some(target.to_string());
}

/// A service's `awsvpcConfiguration`, if it has one.
pub(crate) fn awsvpc(service: &mut EcsService) -> Option<&mut AwsVpcConfiguration> {
    service
        .network_configuration
        .as_mut()?
        .awsvpc_configuration
        .as_mut()
}

/// The endpoint `id`, to modify.
pub(crate) fn endpoint_mut<'d>(doc: &'d mut Snapshot, id: &str) -> Option<&'d mut VpcEndpoint> {
    doc.vpc_endpoints
        .iter_mut()
        .find(|e| e.vpc_endpoint_id == id)
}

/// Why a `set` failed.
enum SetError {
    Unknown(String),
    Invalid(String),
}

fn switch(value: &str) -> Result<bool, SetError> {
    match value {
        "on" | "true" | "enabled" => Ok(true),
        "off" | "false" | "disabled" => Ok(false),
        _ => Err(SetError::Invalid(format!(
            "expected on or off, not {value:?}"
        ))),
    }
}

/// The comma-separated ids of `value`, each checked to exist.
fn ids(doc: &Snapshot, value: &str) -> Result<Vec<String>, SetError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| match locate(doc, id) {
            Some(_) => Ok(id.to_string()),
            None => Err(SetError::Unknown(id.to_string())),
        })
        .collect()
}

/// Sets one attribute (every `--change` that fits its resource applies).
fn set(doc: &mut Snapshot, resource: &str, key: Key, value: &str) -> Result<(), SetError> {
    let located = locate(doc, resource).ok_or_else(|| SetError::Unknown(resource.into()))?;
    let misfit = || {
        SetError::Invalid(format!(
            "{} does not apply to {resource} (see `reachguard impact --help`)",
            key.as_str()
        ))
    };
    match (&located, key) {
        (Resource::Endpoint, Key::PrivateDns) => {
            let on = switch(value)?;
            endpoint_mut(doc, resource)
                .ok_or_else(misfit)?
                .private_dns_enabled = Some(on);
        }
        (Resource::Endpoint, Key::SecurityGroups) => {
            let groups = ids(doc, value)?;
            endpoint_mut(doc, resource).ok_or_else(misfit)?.groups = groups
                .into_iter()
                .map(|group_id| SecurityGroupIdentifier {
                    group_id,
                    group_name: None,
                })
                .collect();
        }
        (Resource::Endpoint, Key::Subnets) => {
            let subnets = ids(doc, value)?;
            endpoint_mut(doc, resource).ok_or_else(misfit)?.subnet_ids = subnets;
        }
        (Resource::Endpoint, Key::RouteTables) => {
            let tables = ids(doc, value)?;
            endpoint_mut(doc, resource)
                .ok_or_else(misfit)?
                .route_table_ids = tables;
        }
        (Resource::Vpc, Key::DnsSupport | Key::DnsHostnames) => {
            set_vpc_dns(doc, resource, key, switch(value)?);
        }
        (Resource::Route { table, destination }, Key::Target) => {
            if ["nat-", "igw-", "vpce-"]
                .iter()
                .any(|p| value.starts_with(p))
                && locate(doc, value).is_none()
            {
                return Err(SetError::Unknown(value.into()));
            }
            let route = doc
                .route_tables
                .iter_mut()
                .filter(|t| &t.route_table_id == table)
                .flat_map(|t| &mut t.routes)
                .find(|r| self::destination(r) == Some(destination.as_str()))
                .ok_or_else(misfit)?;
            set_route_target(route, value);
        }
        (Resource::Subnet, Key::RouteTable) => {
            match locate(doc, value) {
                Some(Resource::RouteTable) => {}
                Some(_) => return Err(SetError::Invalid(format!("{value} is not a route table"))),
                None => return Err(SetError::Unknown(value.into())),
            }
            associate_route_table(doc, resource, value);
        }
        (Resource::Subnet, Key::NetworkAcl) => {
            match locate(doc, value) {
                Some(Resource::NetworkAcl) => {}
                Some(_) => return Err(SetError::Invalid(format!("{value} is not a network ACL"))),
                None => return Err(SetError::Unknown(value.into())),
            }
            associate_network_acl(doc, resource, value);
        }
        (Resource::Service(arn), Key::Subnets | Key::SecurityGroups) => {
            let list = ids(doc, value)?;
            let service = doc
                .services
                .iter_mut()
                .find(|s| &s.service_arn == arn)
                .ok_or_else(misfit)?;
            let config = awsvpc(service).ok_or_else(|| {
                SetError::Invalid(format!("{arn} has no awsvpc network configuration"))
            })?;
            if key == Key::Subnets {
                config.subnets = list;
            } else {
                config.security_groups = list;
            }
        }
        _ => return Err(misfit()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::compare;

    const ENDPOINT_ONLY: &str = include_str!("../../../examples/endpoint-only-vpc.json");
    const NAT_ONLY: &str = include_str!("../../../examples/nat-only-vpc.json");

    const BROKEN: &str = include_str!("../../../examples/broken-vpc.json");

    /// The keys of the findings a change (or, failing to parse as one, a deletion) opens and
    /// resolves on an example.
    fn impact(example: &str, change: &str) -> Result<(Vec<String>, Vec<String>), WhatIfError> {
        let snapshot = Snapshot::from_json(example).expect("a bundled example");
        let change = match change.parse::<Change>() {
            Ok(change) => change,
            Err(_) => Change::Delete(change.to_string()),
        };
        let impact = compare(&snapshot, apply(&snapshot, &[change])?)?;
        let keys =
            |findings: &[crate::finding::Finding]| findings.iter().map(|f| f.key()).collect();
        Ok((keys(&impact.opened), keys(&impact.resolved)))
    }

    #[test]
    fn every_key_changes_what_check_reports() {
        let api = "arn:aws:ecs:us-east-1:111122223333:service/payments/api";
        let moved_service = format!("{api}:subnets=subnet-0c4e1a7b2d3f500a1");
        // (example, change, opened besides unreachable-dependency, resolved)
        let cases: [(&str, &str, &[&str], &[&str]); 9] = [
            (
                ENDPOINT_ONLY,
                "vpce-0c4e1a7b2d3f50002:private-dns=off",
                &["endpoint-private-dns-disabled|vpce-0c4e1a7b2d3f50002"],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "vpc-0c4e1a7b2d3f50001:dns-hostnames=off",
                &["vpc-dns-disabled|vpc-0c4e1a7b2d3f50001"],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "vpce-0c4e1a7b2d3f50s30:route-tables=rtb-0c4e1a7b2d3f50010",
                &["gateway-endpoint-not-associated|vpce-0c4e1a7b2d3f50s30|rtb-0c4e1a7b2d3f50011"],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "vpce-0c4e1a7b2d3f50001:security-groups=sg-0c4e1a7b2d3f50a01",
                &[
                    "endpoint-security-group-blocks-https|vpce-0c4e1a7b2d3f50001|subnet-0c4e1a7b2d3f500a1",
                    "endpoint-security-group-blocks-https|vpce-0c4e1a7b2d3f50001|subnet-0c4e1a7b2d3f500b1",
                ],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "vpce-0c4e1a7b2d3f50001:subnets=subnet-0c4e1a7b2d3f500a1",
                &["endpoint-az-gap|vpce-0c4e1a7b2d3f50001|us-east-1b"],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "subnet-0c4e1a7b2d3f500b1:route-table=rtb-0c4e1a7b2d3f50010",
                &["gateway-endpoint-not-associated|vpce-0c4e1a7b2d3f50s30|rtb-0c4e1a7b2d3f50010"],
                &[],
            ),
            (
                NAT_ONLY,
                "rtb-0a5d2e8c1b4f60011:0.0.0.0/0:target=igw-0a5d2e8c1b4f60001",
                &[],
                &["nat-single-az|nat-0a5d2e8c1b4f60a01"],
            ),
            (
                BROKEN,
                "subnet-0b7f3c9d2e1a800b1:network-acl=acl-0b7f3c9d2e1a80001",
                &[],
                &["network-acl-blocks-https|acl-0b7f3c9d2e1a800b1|subnet-0b7f3c9d2e1a800b1"],
            ),
            (ENDPOINT_ONLY, &moved_service, &[], &[]),
        ];
        for (example, change, expected_opened, expected_resolved) in cases {
            let (mut opened, resolved) =
                impact(example, change).unwrap_or_else(|e| panic!("{change}: {e}"));
            opened.retain(|key| !key.starts_with("unreachable-dependency"));
            assert_eq!(opened, expected_opened, "{change}");
            for key in expected_resolved {
                assert!(resolved.iter().any(|r| r == key), "{change}: {resolved:?}");
            }
        }
    }

    /// The distinct rule ids of finding keys.
    fn rules(keys: &[String]) -> Vec<&str> {
        let mut rules: Vec<&str> = keys.iter().filter_map(|k| k.split('|').next()).collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }

    #[test]
    fn every_kind_of_resource_can_be_deleted() {
        // (example, id, rules opened, rules resolved)
        let cases: [(&str, &str, &[&str], &[&str]); 8] = [
            (
                ENDPOINT_ONLY,
                "sg-0c4e1a7b2d3f50e01:ingress:0",
                &[
                    "endpoint-security-group-blocks-https",
                    "unreachable-dependency",
                ],
                &[],
            ),
            (
                ENDPOINT_ONLY,
                "sg-0c4e1a7b2d3f50e01",
                &[
                    "endpoint-security-group-blocks-https",
                    "unreachable-dependency",
                ],
                &[],
            ),
            (
                BROKEN,
                "acl-0b7f3c9d2e1a800b1:ingress:100",
                &["unreachable-dependency"],
                &[],
            ),
            (
                BROKEN,
                "acl-0b7f3c9d2e1a800b1",
                &[],
                &["network-acl-blocks-https", "unreachable-dependency"],
            ),
            (
                NAT_ONLY,
                "igw-0a5d2e8c1b4f60001",
                &["unreachable-dependency"],
                &["nat-for-gateway-service", "nat-single-az"],
            ),
            (
                NAT_ONLY,
                "rtb-0a5d2e8c1b4f60011:0.0.0.0/0",
                &["unreachable-dependency"],
                &[
                    "egress-not-restricted",
                    "nat-for-gateway-service",
                    "nat-single-az",
                ],
            ),
            (
                NAT_ONLY,
                "subnet-0a5d2e8c1b4f600c1",
                &[],
                &["subnet-not-ready"],
            ),
            (
                NAT_ONLY,
                "api",
                &[],
                &[
                    "egress-not-restricted",
                    "endpoint-private-dns-disabled",
                    "gateway-endpoint-not-associated",
                    "nat-for-gateway-service",
                    "nat-single-az",
                    "subnet-not-ready",
                ],
            ),
        ];
        for (example, id, expected_opened, expected_resolved) in cases {
            let (opened, resolved) = impact(example, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(rules(&opened), expected_opened, "{id}");
            assert_eq!(rules(&resolved), expected_resolved, "{id}");
        }
        let snapshot = Snapshot::from_json(NAT_ONLY).expect("a bundled example");
        let vpc = apply(&snapshot, &[Change::Delete("vpc-0a5d2e8c1b4f60001".into())])
            .expect("a known id");
        assert!(vpc.applied.is_empty() && vpc.not_evaluated.len() == 1);
    }

    #[test]
    fn changes_that_cannot_apply_are_errors_naming_the_input() {
        let cases = [
            (
                "vpce-0c4e1a7b2d3f50002:route-table=rtb-0c4e1a7b2d3f50010",
                "does not apply",
            ),
            (
                "subnet-0c4e1a7b2d3f500a1:route-table=rtb-missing",
                "rtb-missing is not in the snapshot",
            ),
            (
                "subnet-0c4e1a7b2d3f500a1:route-table=sg-0c4e1a7b2d3f50e01",
                "is not a route table",
            ),
            (
                "vpce-0c4e1a7b2d3f50002:private-dns=maybe",
                "expected on or off",
            ),
            (
                "vpce-missing:private-dns=on",
                "vpce-missing is not in the snapshot",
            ),
            (
                "vpce-0c4e1a7b2d3f50001:security-groups=sg-a",
                "sg-a is not in the snapshot",
            ),
        ];
        for (change, expected) in cases {
            let error = impact(ENDPOINT_ONLY, change).expect_err(change).to_string();
            assert!(error.contains(expected), "{change}: {error}");
        }
    }

    #[test]
    fn change_syntax_reads_resource_key_and_value() {
        let cases = [
            (
                "vpce-1:private-dns=off",
                Some(("vpce-1", Key::PrivateDns, "off")),
            ),
            (
                "rtb-1:0.0.0.0/0:target=nat-2",
                Some(("rtb-1:0.0.0.0/0", Key::Target, "nat-2")),
            ),
            (
                "arn:aws:ecs:us-east-1:1:service/c/s:subnets=subnet-a,subnet-b",
                Some((
                    "arn:aws:ecs:us-east-1:1:service/c/s",
                    Key::Subnets,
                    "subnet-a,subnet-b",
                )),
            ),
            ("subnet-1:route-table=", None),
            ("subnet-1:colour=blue", None),
            ("subnet-1", None),
            (":private-dns=on", None),
        ];
        for (text, expected) in cases {
            let parsed = text.parse::<Change>();
            match (expected, parsed) {
                (Some((resource, key, value)), Ok(change)) => assert_eq!(
                    change,
                    Change::Set {
                        resource: resource.into(),
                        key,
                        value: value.into()
                    },
                    "{text}"
                ),
                (None, Err(WhatIfError::BadChange { change, .. })) => assert_eq!(change, text),
                (expected, got) => panic!("{text}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn route_target_field_follows_the_id_prefix() {
        let cases = [
            ("nat-1", "NatGatewayId"),
            ("igw-1", "GatewayId"),
            ("vpce-1", "GatewayId"),
            ("tgw-1", "TransitGatewayId"),
            ("pcx-1", "VpcPeeringConnectionId"),
            ("eni-1", "NetworkInterfaceId"),
        ];
        for (target, field) in cases {
            let mut route = Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                gateway_id: Some("igw-old".into()),
                state: Some("blackhole".into()),
                ..Route::default()
            };
            set_route_target(&mut route, target);
            let json = serde_json::to_value(&route).expect("serialises");
            assert_eq!(
                json,
                serde_json::json!({"DestinationCidrBlock": "0.0.0.0/0", field: target}),
                "{target}"
            );
        }
    }
}
