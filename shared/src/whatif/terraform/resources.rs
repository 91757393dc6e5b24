//! The Terraform resource types that decide the paths, each as two operations on the snapshot
//! document: `upsert` (create, or update the entry with that id) and `remove` (delete, as AWS
//! would). Resources with their own id (VPC, subnet, route table, endpoint, NAT and internet
//! gateway, security group, ACL, task definition, service) are updated in place; the ones that
//! link others (routes, associations, rules) are updated as remove-then-add.

use serde_json::Value;

use super::values::{Attrs, Skip, Step};
use crate::snapshot::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerDefinition, EcsService, EcsTag,
    InternetGateway, InternetGatewayAttachment, IpPermission, IpRange, NatGateway, NetworkAcl,
    NetworkAclAssociation, NetworkAclEntry, NetworkConfiguration, PortRange, Route, RouteTable,
    RouteTableAssociation, SecurityGroup, SecurityGroupIdentifier, Snapshot, Subnet,
    TaskDefinition, UserIdGroupPair, Vpc, VpcEndpoint,
};
use crate::whatif::change::{
    self, Key, Outcome, associate_network_acl, associate_route_table, blackhole_routes_to,
    delete_acl_entry, delete_endpoint, delete_route, delete_security_group, delete_subnet,
    set_vpc_dns,
};

type Operation = fn(&mut Snapshot, &Attrs<'_>) -> Result<(), Skip>;

/// How one Terraform resource type is applied.
pub(crate) struct Kind {
    /// `aws_…`.
    pub resource_type: &'static str,
    /// Application order (lower first).
    pub phase: u8,
    /// Links other resources (update = remove, then add).
    pub linked: bool,
    /// The attribute holding its id.
    pub id_key: &'static str,
    /// Its id when unknown until apply.
    pub placeholder: fn(&Snapshot, &str, &Value) -> String,
    /// Create, or update in place.
    pub upsert: Operation,
    /// Delete.
    pub remove: Operation,
}

const fn own(
    resource_type: &'static str,
    phase: u8,
    placeholder: fn(&Snapshot, &str, &Value) -> String,
    upsert: Operation,
    remove: Operation,
) -> Kind {
    Kind {
        resource_type,
        phase,
        linked: false,
        id_key: "id",
        placeholder,
        upsert,
        remove,
    }
}

const fn link(resource_type: &'static str, upsert: Operation, remove: Operation) -> Kind {
    Kind {
        resource_type,
        phase: 3,
        linked: true,
        id_key: "id",
        placeholder: by_address,
        upsert,
        remove,
    }
}

/// Every type applied, in documentation order.
pub(crate) const KINDS: &[Kind] = &[
    own("aws_vpc", 0, |_, a, _| prefixed("vpc", a), vpc, vpc_remove),
    own(
        "aws_subnet",
        1,
        |_, a, _| prefixed("subnet", a),
        subnet,
        subnet_remove,
    ),
    own(
        "aws_route_table",
        1,
        |_, a, _| prefixed("rtb", a),
        route_table,
        route_table_remove,
    ),
    link("aws_route", route, route_remove),
    link(
        "aws_route_table_association",
        rt_association,
        rt_association_remove,
    ),
    link(
        "aws_main_route_table_association",
        main_association,
        main_association_remove,
    ),
    own(
        "aws_vpc_endpoint",
        2,
        |_, a, _| prefixed("vpce", a),
        endpoint,
        endpoint_remove,
    ),
    link(
        "aws_vpc_endpoint_route_table_association",
        endpoint_route_table,
        endpoint_route_table_remove,
    ),
    link(
        "aws_vpc_endpoint_subnet_association",
        endpoint_subnet,
        endpoint_subnet_remove,
    ),
    link(
        "aws_vpc_endpoint_security_group_association",
        endpoint_group,
        endpoint_group_remove,
    ),
    link(
        "aws_vpc_endpoint_policy",
        endpoint_policy,
        endpoint_policy_remove,
    ),
    own(
        "aws_nat_gateway",
        2,
        |_, a, _| prefixed("nat", a),
        nat_gateway,
        nat_gateway_remove,
    ),
    own(
        "aws_internet_gateway",
        1,
        |_, a, _| prefixed("igw", a),
        internet_gateway,
        internet_gateway_remove,
    ),
    link(
        "aws_internet_gateway_attachment",
        igw_attachment,
        igw_attachment_remove,
    ),
    own(
        "aws_security_group",
        1,
        |_, a, _| prefixed("sg", a),
        security_group,
        security_group_remove,
    ),
    link("aws_security_group_rule", sg_rule, sg_rule_remove),
    link(
        "aws_vpc_security_group_ingress_rule",
        ingress_rule,
        ingress_rule_remove,
    ),
    link(
        "aws_vpc_security_group_egress_rule",
        egress_rule,
        egress_rule,
    ),
    own(
        "aws_network_acl",
        1,
        |_, a, _| prefixed("acl", a),
        network_acl,
        network_acl_remove,
    ),
    link("aws_network_acl_rule", acl_rule, acl_rule_remove),
    link(
        "aws_network_acl_association",
        acl_association,
        acl_association_remove,
    ),
    own(
        "aws_default_network_acl",
        1,
        |_, a, _| prefixed("acl", a),
        default_acl,
        default_acl_remove,
    ),
    own("aws_ecs_service", 3, service_arn, service, service_remove),
    Kind {
        id_key: "arn",
        ..own(
            "aws_ecs_task_definition",
            1,
            task_definition_arn,
            task_definition,
            task_definition_remove,
        )
    },
];

/// The kind of a resource type, if applied.
pub(crate) fn kind(resource_type: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.resource_type == resource_type)
}

/// True when the document holds the resource `id` of `kind`.
pub(crate) fn in_snapshot(doc: &Snapshot, kind: &Kind, id: &str) -> bool {
    if kind.resource_type == "aws_ecs_task_definition" {
        doc.task_definitions
            .iter()
            .any(|t| t.task_definition_arn == id)
    } else {
        change::locate(doc, id).is_some()
    }
}

fn prefixed(prefix: &str, address: &str) -> String {
    format!("{prefix}-<{address}>")
}

fn by_address(_: &Snapshot, address: &str, _: &Value) -> String {
    format!("<{address}>")
}

fn arn(doc: &Snapshot, resource: &str) -> String {
    let region = doc.region.as_deref();
    format!(
        "arn:{}:ecs:{}:{}:{resource}",
        region.map_or("aws", crate::partition::of_region),
        region.unwrap_or("<region>"),
        doc.account_id.as_deref().unwrap_or("<account>")
    )
}

fn service_arn(doc: &Snapshot, address: &str, after: &Value) -> String {
    let name = after.get("name").and_then(Value::as_str);
    let cluster = after
        .get("cluster")
        .and_then(Value::as_str)
        .map(|c| c.rsplit('/').next().unwrap_or(c));
    match (cluster, name) {
        (Some(cluster), Some(name)) => arn(doc, &format!("service/{cluster}/{name}")),
        _ => arn(doc, &format!("service/<{address}>")),
    }
}

fn task_definition_arn(doc: &Snapshot, address: &str, after: &Value) -> String {
    let family = after.get("family").and_then(Value::as_str).unwrap_or("");
    arn(doc, &format!("task-definition/{family}:<{address}>"))
}

fn k(key: &str) -> [Step<'_>; 1] {
    [Step::Key(key)]
}

fn not_in_snapshot(what: &str, id: &str) -> Skip {
    Skip(format!(
        "{what} {id} is in neither the snapshot nor the plan"
    ))
}

fn outcome(result: Outcome) -> Result<(), Skip> {
    match result {
        Outcome::Applied => Ok(()),
        Outcome::NotEvaluated(reason) => Err(Skip(reason)),
    }
}

// --- VPC, subnet ---------------------------------------------------------------------------

fn vpc(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let cidr = a.cidr(&k("cidr_block"))?;
    let tags = a.tags();
    let is_new = !doc.vpcs.iter().any(|v| v.vpc_id == id);
    match doc.vpcs.iter_mut().find(|v| v.vpc_id == id) {
        Some(v) => {
            v.cidr_block = cidr.or(v.cidr_block.take());
            v.tags = tags;
        }
        None => doc.vpcs.push(Vpc {
            vpc_id: id.clone(),
            cidr_block: cidr,
            owner_id: None,
            tags,
        }),
    }
    // AWS defaults for a new VPC: DNS support on, DNS hostnames off; an update leaves what it
    // does not state as it is.
    for (key, attribute, default) in [
        (Key::DnsSupport, "enable_dns_support", true),
        (Key::DnsHostnames, "enable_dns_hostnames", false),
    ] {
        match a.values.get(attribute).and_then(Value::as_bool) {
            Some(on) => set_vpc_dns(doc, &id, key, on),
            None if is_new => set_vpc_dns(doc, &id, key, default),
            None => {}
        }
    }
    Ok(())
}

fn vpc_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    doc.vpcs.retain(|v| v.vpc_id != id);
    doc.vpc_attributes.retain(|v| v.vpc_id != id);
    Ok(())
}

fn subnet(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let entry = Subnet {
        subnet_id: id.clone(),
        vpc_id: a.required("vpc_id")?,
        cidr_block: a
            .cidr(&k("cidr_block"))?
            .ok_or_else(|| Skip("cidr_block is known only after apply".into()))?,
        availability_zone: a.required("availability_zone")?,
        availability_zone_id: a.string(&k("availability_zone_id"))?,
        owner_id: None,
        tags: a.tags(),
    };
    match doc.subnets.iter_mut().find(|s| s.subnet_id == id) {
        Some(existing) => *existing = entry,
        None => doc.subnets.push(entry),
    }
    Ok(())
}

fn subnet_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    delete_subnet(doc, &a.own_id("id"));
    Ok(())
}

// --- route tables and routes ---------------------------------------------------------------

/// A route from the attributes under `at` (an `aws_route`, or an inline `route` block).
fn route_at(a: &Attrs<'_>, at: &[Step<'_>]) -> Result<Route, Skip> {
    let get = |key: &str| -> Result<Option<String>, Skip> {
        let mut path = at.to_vec();
        path.push(Step::Key(key));
        a.string(&path)
    };
    let first = |keys: &[&str]| -> Result<Option<String>, Skip> {
        for key in keys {
            if let Some(value) = get(key)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    };
    let mut route = Route {
        destination_cidr_block: first(&["destination_cidr_block", "cidr_block"])?,
        destination_ipv6_cidr_block: first(&["destination_ipv6_cidr_block", "ipv6_cidr_block"])?,
        destination_prefix_list_id: get("destination_prefix_list_id")?,
        gateway_id: first(&["gateway_id", "vpc_endpoint_id"])?,
        nat_gateway_id: get("nat_gateway_id")?,
        transit_gateway_id: get("transit_gateway_id")?,
        vpc_peering_connection_id: get("vpc_peering_connection_id")?,
        network_interface_id: get("network_interface_id")?,
        instance_id: get("instance_id")?,
        egress_only_internet_gateway_id: get("egress_only_gateway_id")?,
        local_gateway_id: get("local_gateway_id")?,
        carrier_gateway_id: get("carrier_gateway_id")?,
        core_network_arn: get("core_network_arn")?,
        state: None,
    };
    if change::destination(&route).is_none() {
        return Err(Skip(
            "the route's destination is known only after apply".into(),
        ));
    }
    // A route has one target; keep the first the model would read.
    if route.nat_gateway_id.is_some() {
        route.gateway_id = None;
    }
    Ok(route)
}

/// Routes AWS manages itself, which Terraform's `route` list leaves out.
fn aws_managed(route: &Route) -> bool {
    route
        .gateway_id
        .as_deref()
        .is_some_and(|g| g == "local" || g.starts_with("vpce-"))
}

fn route_table(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let vpc_id = a.required("vpc_id")?;
    let inline: Option<Vec<Route>> = match a.value(&k("route")) {
        Value::Array(_) => Some(
            (0..a.blocks("route"))
                .map(|i| route_at(a, &[Step::Key("route"), Step::Index(i)]))
                .collect::<Result<_, _>>()?,
        ),
        _ => None,
    };
    let tags = a.tags();
    let table = match doc.route_tables.iter().position(|t| t.route_table_id == id) {
        Some(i) => &mut doc.route_tables[i],
        None => {
            doc.route_tables.push(RouteTable {
                route_table_id: id.clone(),
                vpc_id: vpc_id.clone(),
                ..RouteTable::default()
            });
            let last = doc.route_tables.len() - 1;
            &mut doc.route_tables[last]
        }
    };
    table.vpc_id = vpc_id;
    table.tags = tags;
    if let Some(routes) = inline {
        table.routes.retain(aws_managed);
        table.routes.extend(routes);
    }
    Ok(())
}

fn route_table_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    outcome(change::delete_route_table(doc, &a.own_id("id")))
}

fn route(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let table_id = a.required("route_table_id")?;
    let route = route_at(a, &[])?;
    let destination = change::destination(&route).map(str::to_string);
    let table = doc
        .route_tables
        .iter_mut()
        .find(|t| t.route_table_id == table_id)
        .ok_or_else(|| not_in_snapshot("route table", &table_id))?;
    table
        .routes
        .retain(|r| change::destination(r).map(str::to_string) != destination);
    table.routes.push(route);
    Ok(())
}

fn route_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let table = a.required("route_table_id")?;
    let route = route_at(a, &[])?;
    if let Some(destination) = change::destination(&route) {
        delete_route(doc, &table, destination);
    }
    Ok(())
}

fn table_exists(doc: &Snapshot, id: &str) -> Result<(), Skip> {
    doc.route_tables
        .iter()
        .any(|t| t.route_table_id == id)
        .then_some(())
        .ok_or_else(|| not_in_snapshot("route table", id))
}

fn association_subnet(a: &Attrs<'_>) -> Result<String, Skip> {
    match a.string(&k("subnet_id"))? {
        Some(subnet) => Ok(subnet),
        None if a.string(&k("gateway_id"))?.is_some() => Err(Skip(
            "an edge association (gateway_id) is not part of reachguard's model".into(),
        )),
        None => Err(Skip("subnet_id is not set".into())),
    }
}

fn rt_association(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let subnet = association_subnet(a)?;
    let table = a.required("route_table_id")?;
    table_exists(doc, &table)?;
    associate_route_table(doc, &subnet, &table);
    Ok(())
}

fn rt_association_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let subnet = association_subnet(a)?;
    let table = a.required("route_table_id")?;
    for t in doc
        .route_tables
        .iter_mut()
        .filter(|t| t.route_table_id == table)
    {
        t.associations
            .retain(|x| x.subnet_id.as_deref() != Some(subnet.as_str()));
    }
    Ok(())
}

/// Makes `table` the main route table of `vpc`.
fn set_main(doc: &mut Snapshot, vpc: &str, table: &str) -> Result<(), Skip> {
    table_exists(doc, table)?;
    for t in doc.route_tables.iter_mut().filter(|t| t.vpc_id == vpc) {
        t.associations.retain(|x| !x.main);
        if t.route_table_id == table {
            t.associations.push(RouteTableAssociation {
                main: true,
                ..RouteTableAssociation::default()
            });
        }
    }
    Ok(())
}

fn main_association(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    set_main(doc, &a.required("vpc_id")?, &a.required("route_table_id")?)
}

fn main_association_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    // Terraform puts the VPC's original main table back.
    set_main(
        doc,
        &a.required("vpc_id")?,
        &a.required("original_route_table_id")?,
    )
}

// --- VPC endpoints -------------------------------------------------------------------------

fn endpoint(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let existing = doc
        .vpc_endpoints
        .iter()
        .find(|e| e.vpc_endpoint_id == id)
        .cloned();
    let entry = VpcEndpoint {
        vpc_endpoint_id: id.clone(),
        vpc_endpoint_type: a
            .string(&k("vpc_endpoint_type"))?
            .unwrap_or_else(|| "Gateway".into()),
        vpc_id: a.required("vpc_id")?,
        service_name: a.required("service_name")?,
        state: Some("available".into()),
        policy_document: match a.string(&k("policy"))? {
            Some(policy) => Some(policy),
            None => existing.as_ref().and_then(|e| e.policy_document.clone()),
        },
        route_table_ids: a.strings(&k("route_table_ids"))?,
        subnet_ids: a.strings(&k("subnet_ids"))?,
        groups: a
            .strings(&k("security_group_ids"))?
            .into_iter()
            .map(|group_id| SecurityGroupIdentifier {
                group_id,
                group_name: None,
            })
            .collect(),
        private_dns_enabled: Some(a.flag("private_dns_enabled", false)),
        tags: a.tags(),
    };
    match doc
        .vpc_endpoints
        .iter_mut()
        .find(|e| e.vpc_endpoint_id == id)
    {
        Some(e) => *e = entry,
        None => doc.vpc_endpoints.push(entry),
    }
    Ok(())
}

fn endpoint_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    delete_endpoint(doc, &a.own_id("id"));
    Ok(())
}

/// Adds (`add`) or removes an id in one of an endpoint's lists.
fn endpoint_list(
    doc: &mut Snapshot,
    a: &Attrs<'_>,
    key: &str,
    list: fn(&mut VpcEndpoint) -> &mut Vec<String>,
    add: bool,
) -> Result<(), Skip> {
    let id = a.required("vpc_endpoint_id")?;
    let value = a.required(key)?;
    let endpoint =
        change::endpoint_mut(doc, &id).ok_or_else(|| not_in_snapshot("endpoint", &id))?;
    let items = list(endpoint);
    items.retain(|x| *x != value);
    if add {
        items.push(value);
    }
    Ok(())
}

fn endpoint_route_table(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_list(doc, a, "route_table_id", |e| &mut e.route_table_ids, true)
}

fn endpoint_route_table_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_list(doc, a, "route_table_id", |e| &mut e.route_table_ids, false)
}

fn endpoint_subnet(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_list(doc, a, "subnet_id", |e| &mut e.subnet_ids, true)
}

fn endpoint_subnet_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_list(doc, a, "subnet_id", |e| &mut e.subnet_ids, false)
}

fn endpoint_groups(doc: &mut Snapshot, a: &Attrs<'_>, add: bool) -> Result<(), Skip> {
    let id = a.required("vpc_endpoint_id")?;
    let group = a.required("security_group_id")?;
    let endpoint =
        change::endpoint_mut(doc, &id).ok_or_else(|| not_in_snapshot("endpoint", &id))?;
    endpoint.groups.retain(|g| g.group_id != group);
    if add {
        endpoint.groups.push(SecurityGroupIdentifier {
            group_id: group,
            group_name: None,
        });
    }
    Ok(())
}

fn endpoint_group(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_groups(doc, a, true)
}

fn endpoint_group_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    endpoint_groups(doc, a, false)
}

fn endpoint_policy(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.required("vpc_endpoint_id")?;
    let policy = a.required("policy")?;
    change::endpoint_mut(doc, &id)
        .ok_or_else(|| not_in_snapshot("endpoint", &id))?
        .policy_document = Some(policy);
    Ok(())
}

fn endpoint_policy_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    // Removing the policy resource restores the default (full access) policy.
    let id = a.required("vpc_endpoint_id")?;
    if let Some(endpoint) = change::endpoint_mut(doc, &id) {
        endpoint.policy_document = None;
    }
    Ok(())
}

// --- NAT and internet gateways -------------------------------------------------------------

fn nat_gateway(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let subnet_id = a.string(&k("subnet_id"))?;
    let vpc_id = match a.string(&k("vpc_id"))? {
        Some(vpc) => vpc,
        None => subnet_id
            .as_deref()
            .and_then(|s| doc.subnets.iter().find(|x| x.subnet_id == s))
            .map(|s| s.vpc_id.clone())
            .ok_or_else(|| Skip("the NAT gateway's subnet (and so its VPC) is not known".into()))?,
    };
    let entry = NatGateway {
        nat_gateway_id: id.clone(),
        vpc_id,
        subnet_id,
        state: Some("available".into()),
        connectivity_type: a.string(&k("connectivity_type"))?,
        availability_mode: a.string(&k("availability_mode"))?,
        attached_appliances: Vec::new(),
        tags: a.tags(),
    };
    match doc.nat_gateways.iter_mut().find(|n| n.nat_gateway_id == id) {
        Some(existing) => *existing = entry,
        None => doc.nat_gateways.push(entry),
    }
    Ok(())
}

fn nat_gateway_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    doc.nat_gateways.retain(|n| n.nat_gateway_id != id);
    blackhole_routes_to(doc, &id);
    Ok(())
}

fn internet_gateway(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let vpc = a.string(&k("vpc_id"))?;
    let tags = a.tags();
    let attachments = |vpc: String| {
        vec![InternetGatewayAttachment {
            vpc_id: vpc,
            state: Some("available".into()),
        }]
    };
    match doc
        .internet_gateways
        .iter_mut()
        .find(|g| g.internet_gateway_id == id)
    {
        Some(existing) => {
            existing.tags = tags;
            if let Some(vpc) = vpc {
                existing.attachments = attachments(vpc);
            }
        }
        None => doc.internet_gateways.push(InternetGateway {
            internet_gateway_id: id,
            attachments: vpc.map(attachments).unwrap_or_default(),
            tags,
        }),
    }
    Ok(())
}

fn internet_gateway_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    doc.internet_gateways
        .retain(|g| g.internet_gateway_id != id);
    blackhole_routes_to(doc, &id);
    Ok(())
}

fn igw_attachments(doc: &mut Snapshot, a: &Attrs<'_>, add: bool) -> Result<(), Skip> {
    let id = a.required("internet_gateway_id")?;
    let vpc = a.required("vpc_id")?;
    let gateway = doc
        .internet_gateways
        .iter_mut()
        .find(|g| g.internet_gateway_id == id)
        .ok_or_else(|| not_in_snapshot("internet gateway", &id))?;
    gateway.attachments.retain(|x| x.vpc_id != vpc);
    if add {
        gateway.attachments.push(InternetGatewayAttachment {
            vpc_id: vpc,
            state: Some("available".into()),
        });
    }
    Ok(())
}

fn igw_attachment(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    igw_attachments(doc, a, true)
}

fn igw_attachment_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    igw_attachments(doc, a, false)
}

// --- security groups -------------------------------------------------------------------------

/// One ingress permission: protocol, ports, sources.
fn permission(
    protocol: String,
    from: Option<i64>,
    to: Option<i64>,
    cidrs: Vec<String>,
    groups: Vec<String>,
) -> IpPermission {
    let all = matches!(protocol.as_str(), "-1" | "all");
    IpPermission {
        ip_protocol: if all { "-1".into() } else { protocol },
        from_port: from.filter(|_| !all),
        to_port: to.filter(|_| !all),
        ip_ranges: cidrs
            .into_iter()
            .map(|cidr_ip| IpRange { cidr_ip })
            .collect(),
        user_id_group_pairs: groups
            .into_iter()
            .map(|g| UserIdGroupPair { group_id: Some(g) })
            .collect(),
    }
}

/// The ingress permission of a rule or inline block under `at`.
fn permission_at(a: &Attrs<'_>, at: &[Step<'_>], group: &str) -> Result<IpPermission, Skip> {
    let path = |key| {
        let mut p = at.to_vec();
        p.push(Step::Key(key));
        p
    };
    let protocol = a
        .string(&path("protocol"))?
        .or(a.string(&path("ip_protocol"))?)
        .ok_or_else(|| Skip("the rule's protocol is known only after apply".into()))?;
    let mut cidrs = a.cidrs(&path("cidr_blocks"))?;
    cidrs.extend(a.cidr(&path("cidr_ipv4"))?);
    let mut groups = a.strings(&path("security_groups"))?;
    groups.extend(a.string(&path("source_security_group_id"))?);
    groups.extend(a.string(&path("referenced_security_group_id"))?);
    if a.value(&path("self")) == &Value::Bool(true) {
        groups.push(group.to_string());
    }
    Ok(permission(
        protocol.to_ascii_lowercase(),
        a.number(&path("from_port")),
        a.number(&path("to_port")),
        cidrs,
        groups,
    ))
}

fn security_group(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.own_id("id");
    let ingress: Option<Vec<IpPermission>> = match a.value(&k("ingress")) {
        Value::Array(blocks) => Some(
            (0..blocks.len())
                .map(|i| permission_at(a, &[Step::Key("ingress"), Step::Index(i)], &id))
                .collect::<Result<_, _>>()?,
        ),
        _ => None,
    };
    let vpc_id = a.string(&k("vpc_id"))?;
    let group_name = a.string(&k("name"))?;
    let tags = a.tags();
    match doc.security_groups.iter_mut().find(|g| g.group_id == id) {
        Some(existing) => {
            existing.vpc_id = vpc_id.or(existing.vpc_id.take());
            existing.tags = tags;
            if let Some(ingress) = ingress {
                existing.ip_permissions = ingress;
            }
        }
        None => doc.security_groups.push(SecurityGroup {
            group_id: id,
            vpc_id,
            group_name,
            ip_permissions: ingress.unwrap_or_default(),
            tags,
        }),
    }
    Ok(())
}

fn security_group_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    delete_security_group(doc, &a.own_id("id"));
    Ok(())
}

fn same_protocol(a: &str, b: &str) -> bool {
    let canonical = |p: &str| match p.to_ascii_lowercase().as_str() {
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "all" => "-1".to_string(),
        other => other.to_string(),
    };
    canonical(a) == canonical(b)
}

/// Adds or removes one rule's sources in a group's ingress permissions.
fn ingress_sources(
    doc: &mut Snapshot,
    group: &str,
    rule: IpPermission,
    add: bool,
) -> Result<(), Skip> {
    let entry = doc
        .security_groups
        .iter_mut()
        .find(|g| g.group_id == group)
        .ok_or_else(|| not_in_snapshot("security group", group))?;
    if add {
        entry.ip_permissions.push(rule);
        return Ok(());
    }
    for p in entry.ip_permissions.iter_mut().filter(|p| {
        same_protocol(&p.ip_protocol, &rule.ip_protocol)
            && p.from_port == rule.from_port
            && p.to_port == rule.to_port
    }) {
        p.ip_ranges.retain(|r| !rule.ip_ranges.contains(r));
        p.user_id_group_pairs
            .retain(|g| !rule.user_id_group_pairs.contains(g));
    }
    entry
        .ip_permissions
        .retain(|p| !p.ip_ranges.is_empty() || !p.user_id_group_pairs.is_empty());
    Ok(())
}

const EGRESS_NOT_MODELLED: &str =
    "egress rules are not part of reachguard's model (it checks what endpoints admit)";

fn sg_rules(doc: &mut Snapshot, a: &Attrs<'_>, add: bool) -> Result<(), Skip> {
    if a.string(&k("type"))?.as_deref() == Some("egress") {
        return Err(Skip(EGRESS_NOT_MODELLED.into()));
    }
    let group = a.required("security_group_id")?;
    let rule = permission_at(a, &[], &group)?;
    ingress_sources(doc, &group, rule, add)
}

fn sg_rule(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    sg_rules(doc, a, true)
}

fn sg_rule_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    sg_rules(doc, a, false)
}

fn ingress_rule(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    sg_rules(doc, a, true)
}

fn ingress_rule_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    sg_rules(doc, a, false)
}

fn egress_rule(_: &mut Snapshot, _: &Attrs<'_>) -> Result<(), Skip> {
    Err(Skip(EGRESS_NOT_MODELLED.into()))
}

// --- network ACLs --------------------------------------------------------------------------

/// The entry of an `aws_network_acl_rule`, or of an inline block under `at`.
fn acl_entry_at(a: &Attrs<'_>, at: &[Step<'_>], egress: bool) -> Result<NetworkAclEntry, Skip> {
    let path = |key| {
        let mut p = at.to_vec();
        p.push(Step::Key(key));
        p
    };
    let rule_number = a
        .number(&path("rule_number"))
        .or(a.number(&path("rule_no")))
        .ok_or_else(|| Skip("the ACL rule number is known only after apply".into()))?;
    let protocol = a
        .string(&path("protocol"))?
        .ok_or_else(|| Skip("the ACL rule's protocol is known only after apply".into()))?;
    let port_range = match (a.number(&path("from_port")), a.number(&path("to_port"))) {
        (Some(from), Some(to)) if !(from == 0 && to == 0) => Some(PortRange { from, to }),
        _ => None,
    };
    Ok(NetworkAclEntry {
        rule_number,
        protocol: match protocol.to_ascii_lowercase().as_str() {
            "tcp" => "6".into(),
            "udp" => "17".into(),
            "icmp" => "1".into(),
            "all" => "-1".into(),
            other => other.into(),
        },
        rule_action: a
            .string(&path("rule_action"))?
            .or(a.string(&path("action"))?)
            .unwrap_or_else(|| "deny".into())
            .to_ascii_lowercase(),
        egress,
        cidr_block: a.cidr(&path("cidr_block"))?,
        ipv6_cidr_block: a.string(&path("ipv6_cidr_block"))?,
        port_range,
    })
}

/// The `*` entries every ACL ends with.
fn final_denies() -> Vec<NetworkAclEntry> {
    [false, true]
        .into_iter()
        .map(|egress| NetworkAclEntry {
            rule_number: 32767,
            protocol: "-1".into(),
            rule_action: "deny".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ipv6_cidr_block: None,
            port_range: None,
        })
        .collect()
}

/// The entries of one direction's inline blocks: `None` when Terraform does not manage them.
fn inline_entries(a: &Attrs<'_>, key: &str) -> Result<Option<Vec<NetworkAclEntry>>, Skip> {
    match a.value(&k(key)) {
        Value::Array(blocks) => (0..blocks.len())
            .map(|i| acl_entry_at(a, &[Step::Key(key), Step::Index(i)], key == "egress"))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Ok(None),
    }
}

/// Creates or updates an ACL's entries and subnet associations.
fn upsert_acl(
    doc: &mut Snapshot,
    a: &Attrs<'_>,
    id: &str,
    vpc_id: Option<String>,
) -> Result<(), Skip> {
    let ingress = inline_entries(a, "ingress")?;
    let egress = inline_entries(a, "egress")?;
    let subnets = a.strings(&k("subnet_ids"))?;
    let tags = a.tags();
    let acls = doc.network_acls.get_or_insert_with(Vec::new);
    let index = match acls.iter().position(|x| x.network_acl_id == id) {
        Some(index) => index,
        None => {
            let vpc_id = vpc_id.ok_or_else(|| not_in_snapshot("network ACL", id))?;
            acls.push(NetworkAcl {
                network_acl_id: id.to_string(),
                vpc_id,
                entries: final_denies(),
                ..NetworkAcl::default()
            });
            acls.len() - 1
        }
    };
    let acl = &mut acls[index];
    acl.tags = tags;
    for (direction, entries) in [(false, ingress), (true, egress)] {
        if let Some(entries) = entries {
            acl.entries
                .retain(|e| e.egress != direction || e.rule_number == 32767);
            acl.entries.extend(entries);
        }
    }
    let previous: Vec<String> = acl
        .associations
        .iter()
        .map(|x| x.subnet_id.clone())
        .collect();
    acl.associations.clear();
    for subnet in previous.iter().filter(|s| subnets.contains(s)) {
        acl.associations.push(NetworkAclAssociation {
            subnet_id: subnet.clone(),
            network_acl_association_id: None,
        });
    }
    for subnet in &subnets {
        associate_network_acl(doc, subnet, id);
    }
    Ok(())
}

fn network_acl(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let vpc_id = a.required("vpc_id")?;
    upsert_acl(doc, a, &a.own_id("id"), Some(vpc_id))
}

fn network_acl_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    outcome(change::delete_network_acl(doc, &a.own_id("id")))
}

fn default_acl(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let id = a.required("default_network_acl_id")?;
    upsert_acl(doc, a, &id, None)
}

fn default_acl_remove(_: &mut Snapshot, _: &Attrs<'_>) -> Result<(), Skip> {
    // Terraform only forgets a default ACL; AWS keeps it as it is.
    Ok(())
}

fn acl_rule_parts(a: &Attrs<'_>) -> Result<(String, NetworkAclEntry), Skip> {
    let acl = a.required("network_acl_id")?;
    let egress = a.flag("egress", false);
    Ok((acl, acl_entry_at(a, &[], egress)?))
}

fn acl_rule(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let (acl_id, entry) = acl_rule_parts(a)?;
    let acl = doc
        .network_acls
        .iter_mut()
        .flatten()
        .find(|x| x.network_acl_id == acl_id)
        .ok_or_else(|| not_in_snapshot("network ACL", &acl_id))?;
    acl.entries
        .retain(|e| !(e.egress == entry.egress && e.rule_number == entry.rule_number));
    acl.entries.push(entry);
    Ok(())
}

fn acl_rule_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let (acl, entry) = acl_rule_parts(a)?;
    delete_acl_entry(doc, &acl, entry.egress, entry.rule_number);
    Ok(())
}

fn acl_association(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let acl = a.required("network_acl_id")?;
    let subnet = a.required("subnet_id")?;
    if !doc
        .network_acls
        .iter()
        .flatten()
        .any(|x| x.network_acl_id == acl)
    {
        return Err(not_in_snapshot("network ACL", &acl));
    }
    associate_network_acl(doc, &subnet, &acl);
    Ok(())
}

fn acl_association_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    // The subnet returns to its VPC's default ACL.
    let acl = a.required("network_acl_id")?;
    let subnet = a.required("subnet_id")?;
    for x in doc
        .network_acls
        .iter_mut()
        .flatten()
        .filter(|x| x.network_acl_id == acl)
    {
        x.associations.retain(|s| s.subnet_id != subnet);
    }
    Ok(())
}

// --- ECS -----------------------------------------------------------------------------------

fn task_definition(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let arn = a.own_id("arn");
    let text = a
        .string(&k("container_definitions"))?
        .ok_or_else(|| Skip("container_definitions is known only after apply".into()))?;
    let containers: Vec<ContainerDefinition> = serde_json::from_str(&text).map_err(|e| {
        Skip(format!(
            "container_definitions is not a list of containers: {e}"
        ))
    })?;
    let entry = TaskDefinition {
        task_definition_arn: arn.clone(),
        container_definitions: containers,
    };
    match doc
        .task_definitions
        .iter_mut()
        .find(|t| t.task_definition_arn == arn)
    {
        Some(existing) => *existing = entry,
        None => doc.task_definitions.push(entry),
    }
    Ok(())
}

fn task_definition_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let arn = a.own_id("arn");
    doc.task_definitions
        .retain(|t| t.task_definition_arn != arn);
    Ok(())
}

/// A service's `task_definition` (`family`, `family:revision` or an ARN) as a snapshot ARN.
fn task_definition_of(doc: &Snapshot, value: &str) -> String {
    if value.starts_with("arn:") {
        return value.to_string();
    }
    let revision = format!("task-definition/{value}");
    let family = format!("task-definition/{value}:");
    doc.task_definitions
        .iter()
        .map(|t| t.task_definition_arn.as_str())
        .rfind(|arn| arn.ends_with(&revision) || arn.contains(&family))
        .map_or_else(|| arn(doc, &revision), str::to_string)
}

fn service(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let service_arn = a.own_id("id");
    let network = [Step::Key("network_configuration"), Step::Index(0)];
    let at = |key| [network[0], network[1], Step::Key(key)];
    let awsvpc = match a.value(&k("network_configuration")) {
        Value::Array(blocks) if !blocks.is_empty() => Some(AwsVpcConfiguration {
            subnets: a.strings(&at("subnets"))?,
            security_groups: a.strings(&at("security_groups"))?,
            assign_public_ip: Some(
                if a.value(&at("assign_public_ip")) == &Value::Bool(true) {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
            ),
        }),
        _ => None,
    };
    let task_definition = a
        .string(&k("task_definition"))?
        .map(|t| task_definition_of(doc, &t));
    let strategy = (0..a.blocks("capacity_provider_strategy"))
        .map(|i| {
            a.string(&[
                Step::Key("capacity_provider_strategy"),
                Step::Index(i),
                Step::Key("capacity_provider"),
            ])
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|capacity_provider| CapacityProviderStrategyItem { capacity_provider })
        .collect();
    let tags = a
        .values
        .get("tags")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            Some(EcsTag {
                key: key.clone(),
                value: value.as_str()?.to_string(),
            })
        })
        .collect();
    let entry = EcsService {
        service_arn: service_arn.clone(),
        service_name: a.string(&k("name"))?,
        cluster_arn: a.string(&k("cluster"))?,
        status: Some("ACTIVE".into()),
        launch_type: a.string(&k("launch_type"))?,
        capacity_provider_strategy: strategy,
        task_definition,
        network_configuration: awsvpc.map(|c| NetworkConfiguration {
            awsvpc_configuration: Some(c),
        }),
        enable_execute_command: a.flag("enable_execute_command", false),
        tags,
    };
    match doc
        .services
        .iter_mut()
        .find(|s| s.service_arn == service_arn)
    {
        Some(existing) => *existing = entry,
        None => doc.services.push(entry),
    }
    Ok(())
}

fn service_remove(doc: &mut Snapshot, a: &Attrs<'_>) -> Result<(), Skip> {
    let arn = a.own_id("id");
    doc.services.retain(|s| s.service_arn != arn);
    Ok(())
}
