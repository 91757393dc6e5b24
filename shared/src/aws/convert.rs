//! SDK response shapes → snapshot document shapes ([`crate::snapshot`]), member by member, as the
//! AWS CLI prints them. Enum members keep the wire string (`as_str()`), so a state moto sends in
//! lower case stays lower case, exactly as in a CLI-made snapshot.

use std::collections::BTreeMap;

use aws_sdk_ec2::types as ec2;
use aws_sdk_ecs::types as ecs;

use super::error::{AdapterError, required};
use crate::snapshot as doc;

type Result<T> = std::result::Result<T, AdapterError>;

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_owned)
}

fn strings(values: &[String]) -> Vec<String> {
    values.to_vec()
}

fn tags(tags: &[ec2::Tag]) -> Vec<doc::Tag> {
    tags.iter()
        .filter_map(|t| {
            Some(doc::Tag {
                key: t.key()?.to_owned(),
                value: t.value().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// `DescribeVpcs` entry.
pub(crate) fn vpc(v: &ec2::Vpc) -> Result<doc::Vpc> {
    Ok(doc::Vpc {
        vpc_id: required(owned(v.vpc_id()), "DescribeVpcs", "Vpcs[].VpcId")?,
        cidr_block: owned(v.cidr_block()),
        owner_id: owned(v.owner_id()),
        tags: tags(v.tags()),
    })
}

/// `DescribeSubnets` entry.
pub(crate) fn subnet(s: &ec2::Subnet) -> Result<doc::Subnet> {
    const OP: &str = "DescribeSubnets";
    Ok(doc::Subnet {
        subnet_id: required(owned(s.subnet_id()), OP, "Subnets[].SubnetId")?,
        vpc_id: required(owned(s.vpc_id()), OP, "Subnets[].VpcId")?,
        cidr_block: required(owned(s.cidr_block()), OP, "Subnets[].CidrBlock")?,
        availability_zone: required(
            owned(s.availability_zone()),
            OP,
            "Subnets[].AvailabilityZone",
        )?,
        availability_zone_id: owned(s.availability_zone_id()),
        owner_id: owned(s.owner_id()),
        tags: tags(s.tags()),
    })
}

/// `DescribeRouteTables` entry.
pub(crate) fn route_table(t: &ec2::RouteTable) -> Result<doc::RouteTable> {
    const OP: &str = "DescribeRouteTables";
    Ok(doc::RouteTable {
        route_table_id: required(owned(t.route_table_id()), OP, "RouteTables[].RouteTableId")?,
        vpc_id: required(owned(t.vpc_id()), OP, "RouteTables[].VpcId")?,
        associations: t
            .associations()
            .iter()
            .map(|a| doc::RouteTableAssociation {
                main: a.main().unwrap_or(false),
                subnet_id: owned(a.subnet_id()),
                route_table_association_id: owned(a.route_table_association_id()),
                association_state: a.association_state().map(|s| doc::AssociationState {
                    state: s.state().map(|c| c.as_str().to_owned()),
                }),
            })
            .collect(),
        routes: t.routes().iter().map(route).collect(),
        tags: tags(t.tags()),
    })
}

fn route(r: &ec2::Route) -> doc::Route {
    doc::Route {
        destination_cidr_block: owned(r.destination_cidr_block()),
        destination_ipv6_cidr_block: owned(r.destination_ipv6_cidr_block()),
        destination_prefix_list_id: owned(r.destination_prefix_list_id()),
        gateway_id: owned(r.gateway_id()),
        nat_gateway_id: owned(r.nat_gateway_id()),
        transit_gateway_id: owned(r.transit_gateway_id()),
        vpc_peering_connection_id: owned(r.vpc_peering_connection_id()),
        network_interface_id: owned(r.network_interface_id()),
        instance_id: owned(r.instance_id()),
        egress_only_internet_gateway_id: owned(r.egress_only_internet_gateway_id()),
        local_gateway_id: owned(r.local_gateway_id()),
        carrier_gateway_id: owned(r.carrier_gateway_id()),
        core_network_arn: owned(r.core_network_arn()),
        state: r.state().map(|s| s.as_str().to_owned()),
    }
}

/// `DescribeVpcEndpoints` entry.
pub(crate) fn vpc_endpoint(e: &ec2::VpcEndpoint) -> Result<doc::VpcEndpoint> {
    const OP: &str = "DescribeVpcEndpoints";
    Ok(doc::VpcEndpoint {
        vpc_endpoint_id: required(
            owned(e.vpc_endpoint_id()),
            OP,
            "VpcEndpoints[].VpcEndpointId",
        )?,
        vpc_endpoint_type: required(
            e.vpc_endpoint_type().map(|t| t.as_str().to_owned()),
            OP,
            "VpcEndpoints[].VpcEndpointType",
        )?,
        vpc_id: required(owned(e.vpc_id()), OP, "VpcEndpoints[].VpcId")?,
        service_name: required(owned(e.service_name()), OP, "VpcEndpoints[].ServiceName")?,
        state: e.state().map(|s| s.as_str().to_owned()),
        policy_document: owned(e.policy_document()),
        route_table_ids: strings(e.route_table_ids()),
        subnet_ids: strings(e.subnet_ids()),
        groups: e
            .groups()
            .iter()
            .filter_map(|g| {
                Some(doc::SecurityGroupIdentifier {
                    group_id: g.group_id()?.to_owned(),
                    group_name: owned(g.group_name()),
                })
            })
            .collect(),
        private_dns_enabled: e.private_dns_enabled(),
        tags: tags(e.tags()),
    })
}

/// `DescribeNatGateways` entry.
pub(crate) fn nat_gateway(n: &ec2::NatGateway) -> Result<doc::NatGateway> {
    const OP: &str = "DescribeNatGateways";
    Ok(doc::NatGateway {
        nat_gateway_id: required(owned(n.nat_gateway_id()), OP, "NatGateways[].NatGatewayId")?,
        vpc_id: required(owned(n.vpc_id()), OP, "NatGateways[].VpcId")?,
        subnet_id: owned(n.subnet_id()),
        state: n.state().map(|s| s.as_str().to_owned()),
        connectivity_type: n.connectivity_type().map(|c| c.as_str().to_owned()),
        availability_mode: n.availability_mode().map(|m| m.as_str().to_owned()),
        attached_appliances: n
            .attached_appliances()
            .iter()
            .map(|a| doc::AttachedAppliance {
                appliance_type: a.r#type().map(|t| t.as_str().to_owned()),
                attachment_state: a.attachment_state().map(|s| s.as_str().to_owned()),
            })
            .collect(),
        tags: tags(n.tags()),
    })
}

/// `DescribeInternetGateways` entry.
pub(crate) fn internet_gateway(g: &ec2::InternetGateway) -> Result<doc::InternetGateway> {
    const OP: &str = "DescribeInternetGateways";
    Ok(doc::InternetGateway {
        internet_gateway_id: required(
            owned(g.internet_gateway_id()),
            OP,
            "InternetGateways[].InternetGatewayId",
        )?,
        attachments: g
            .attachments()
            .iter()
            .filter_map(|a| {
                Some(doc::InternetGatewayAttachment {
                    vpc_id: a.vpc_id()?.to_owned(),
                    state: a.state().map(|s| s.as_str().to_owned()),
                })
            })
            .collect(),
        tags: tags(g.tags()),
    })
}

/// `DescribeSecurityGroups` entry.
pub(crate) fn security_group(g: &ec2::SecurityGroup) -> Result<doc::SecurityGroup> {
    const OP: &str = "DescribeSecurityGroups";
    Ok(doc::SecurityGroup {
        group_id: required(owned(g.group_id()), OP, "SecurityGroups[].GroupId")?,
        vpc_id: owned(g.vpc_id()),
        group_name: owned(g.group_name()),
        ip_permissions: g
            .ip_permissions()
            .iter()
            .map(|p| {
                Ok(doc::IpPermission {
                    ip_protocol: required(
                        owned(p.ip_protocol()),
                        OP,
                        "SecurityGroups[].IpPermissions[].IpProtocol",
                    )?,
                    from_port: p.from_port().map(i64::from),
                    to_port: p.to_port().map(i64::from),
                    ip_ranges: p
                        .ip_ranges()
                        .iter()
                        .filter_map(|r| {
                            Some(doc::IpRange {
                                cidr_ip: r.cidr_ip()?.to_owned(),
                            })
                        })
                        .collect(),
                    user_id_group_pairs: p
                        .user_id_group_pairs()
                        .iter()
                        .map(|u| doc::UserIdGroupPair {
                            group_id: owned(u.group_id()),
                        })
                        .collect(),
                })
            })
            .collect::<Result<_>>()?,
        tags: tags(g.tags()),
    })
}

/// `DescribeNetworkAcls` entry.
pub(crate) fn network_acl(a: &ec2::NetworkAcl) -> Result<doc::NetworkAcl> {
    const OP: &str = "DescribeNetworkAcls";
    Ok(doc::NetworkAcl {
        network_acl_id: required(owned(a.network_acl_id()), OP, "NetworkAcls[].NetworkAclId")?,
        vpc_id: required(owned(a.vpc_id()), OP, "NetworkAcls[].VpcId")?,
        is_default: a.is_default().unwrap_or(false),
        associations: a
            .associations()
            .iter()
            .filter_map(|s| {
                Some(doc::NetworkAclAssociation {
                    subnet_id: s.subnet_id()?.to_owned(),
                    network_acl_association_id: owned(s.network_acl_association_id()),
                })
            })
            .collect(),
        entries: a
            .entries()
            .iter()
            .map(|e| {
                Ok(doc::NetworkAclEntry {
                    rule_number: i64::from(required(
                        e.rule_number(),
                        OP,
                        "NetworkAcls[].Entries[].RuleNumber",
                    )?),
                    protocol: required(
                        owned(e.protocol()),
                        OP,
                        "NetworkAcls[].Entries[].Protocol",
                    )?,
                    rule_action: required(
                        e.rule_action().map(|r| r.as_str().to_owned()),
                        OP,
                        "NetworkAcls[].Entries[].RuleAction",
                    )?,
                    egress: e.egress().unwrap_or(false),
                    cidr_block: owned(e.cidr_block()),
                    ipv6_cidr_block: owned(e.ipv6_cidr_block()),
                    port_range: e.port_range().and_then(|p| {
                        Some(doc::PortRange {
                            from: i64::from(p.from()?),
                            to: i64::from(p.to()?),
                        })
                    }),
                })
            })
            .collect::<Result<_>>()?,
        tags: tags(a.tags()),
    })
}

/// `DescribeServices` entry (with `include TAGS`).
pub(crate) fn ecs_service(s: &ecs::Service) -> Result<doc::EcsService> {
    Ok(doc::EcsService {
        service_arn: required(
            owned(s.service_arn()),
            "DescribeServices",
            "services[].serviceArn",
        )?,
        service_name: owned(s.service_name()),
        cluster_arn: owned(s.cluster_arn()),
        status: owned(s.status()),
        launch_type: s.launch_type().map(|l| l.as_str().to_owned()),
        capacity_provider_strategy: s
            .capacity_provider_strategy()
            .iter()
            .map(|c| doc::CapacityProviderStrategyItem {
                capacity_provider: c.capacity_provider().to_owned(),
            })
            .collect(),
        task_definition: owned(s.task_definition()),
        network_configuration: s
            .network_configuration()
            .map(|n| doc::NetworkConfiguration {
                awsvpc_configuration: n.awsvpc_configuration().map(|a| doc::AwsVpcConfiguration {
                    subnets: strings(a.subnets()),
                    security_groups: strings(a.security_groups()),
                    assign_public_ip: a.assign_public_ip().map(|p| p.as_str().to_owned()),
                }),
            }),
        enable_execute_command: s.enable_execute_command(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| {
                Some(doc::EcsTag {
                    key: t.key()?.to_owned(),
                    value: t.value().unwrap_or_default().to_owned(),
                })
            })
            .collect(),
    })
}

/// The `taskDefinition` of `DescribeTaskDefinition`.
pub(crate) fn task_definition(t: &ecs::TaskDefinition) -> Result<doc::TaskDefinition> {
    Ok(doc::TaskDefinition {
        task_definition_arn: required(
            owned(t.task_definition_arn()),
            "DescribeTaskDefinition",
            "taskDefinition.taskDefinitionArn",
        )?,
        container_definitions: t.container_definitions().iter().map(container).collect(),
    })
}

fn container(c: &ecs::ContainerDefinition) -> doc::ContainerDefinition {
    doc::ContainerDefinition {
        name: owned(c.name()),
        image: owned(c.image()),
        log_configuration: c.log_configuration().map(|l| doc::LogConfiguration {
            log_driver: l.log_driver().as_str().to_owned(),
            options: l
                .options()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_else(BTreeMap::new),
            secret_options: l.secret_options().iter().map(secret).collect(),
        }),
        secrets: c.secrets().iter().map(secret).collect(),
        repository_credentials: c
            .repository_credentials()
            .map(|r| doc::RepositoryCredentials {
                credentials_parameter: r.credentials_parameter().to_owned(),
            }),
        environment_files: c
            .environment_files()
            .iter()
            .map(|f| doc::EnvironmentFile {
                value: f.value().to_owned(),
                file_type: f.r#type().as_str().to_owned(),
            })
            .collect(),
    }
}

fn secret(s: &ecs::Secret) -> doc::Secret {
    doc::Secret {
        name: s.name().to_owned(),
        value_from: s.value_from().to_owned(),
    }
}
