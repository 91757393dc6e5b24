//! The snapshot file: one JSON object merging AWS CLI `describe-*` outputs, exactly as the CLI
//! prints them (EC2 members in PascalCase, ECS members in camelCase). Described in `docs/json.md`.
//!
//! These types are the *document*: they mirror AWS's shapes and carry no meaning of their own.
//! [`crate::model::Topology::from_snapshot`] validates and indexes them for evaluation. The live
//! collector builds the same document from SDK responses, so `scan` and `check` evaluate
//! identical models by construction. Unknown keys are ignored; missing keys mean "none".

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::SnapshotError;

/// The whole snapshot file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Snapshot {
    /// `Region` (optional): otherwise derived from the subnets' availability zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `AccountId` (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `aws ec2 describe-vpcs`.
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    /// The two `describe-vpc-attribute` outputs merged, one object per VPC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_attributes: Vec<VpcAttributes>,
    /// `aws ec2 describe-subnets`.
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    /// `aws ec2 describe-route-tables`.
    #[serde(default)]
    pub route_tables: Vec<RouteTable>,
    /// `aws ec2 describe-vpc-endpoints`.
    #[serde(default)]
    pub vpc_endpoints: Vec<VpcEndpoint>,
    /// `aws ec2 describe-nat-gateways`.
    #[serde(default)]
    pub nat_gateways: Vec<NatGateway>,
    /// `aws ec2 describe-internet-gateways`.
    #[serde(default)]
    pub internet_gateways: Vec<InternetGateway>,
    /// `aws ec2 describe-security-groups`.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    /// `aws ec2 describe-network-acls`; absent means no ACL restrictions are assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<Vec<NetworkAcl>>,
    /// `aws ecs describe-services --include TAGS` (the `services` arrays concatenated).
    #[serde(default, rename = "services")]
    pub services: Vec<EcsService>,
    /// The `taskDefinition` object of each `aws ecs describe-task-definition`.
    #[serde(default, rename = "taskDefinitions")]
    pub task_definitions: Vec<TaskDefinition>,
    /// CloudWatch figures of the NAT gateways (optional; absent: no measured rule fires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_gateway_metrics: Option<crate::nat_metrics::NatGatewayMetrics>,
}

impl Snapshot {
    /// Parses a snapshot, naming the JSON path of the first problem on failure.
    pub fn from_json(text: &str) -> Result<Self, SnapshotError> {
        // serde would also accept a positional array for a struct; a snapshot is an object.
        let first = text.trim_start().chars().next();
        if first.is_some() && first != Some('{') {
            return Err(SnapshotError::Shape {
                path: "(top level)".to_string(),
                reason: "expected a JSON object with keys such as Vpcs, Subnets, RouteTables and services".to_string(),
            });
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                SnapshotError::Syntax(inner)
            } else {
                SnapshotError::Shape {
                    path,
                    reason: inner.to_string(),
                }
            }
        })
    }
}

/// An EC2 tag (`{"Key": …, "Value": …}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value (may be empty).
    #[serde(default)]
    pub value: String,
}

/// An ECS tag (`{"key": …, "value": …}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EcsTag {
    /// Tag key.
    pub key: String,
    /// Tag value (may be empty).
    #[serde(default)]
    pub value: String,
}

/// `describe-vpcs` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    /// `vpc-…`.
    pub vpc_id: String,
    /// Primary IPv4 CIDR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// Owning account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A boolean attribute as `describe-vpc-attribute` prints it (`{"Value": true}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeBoolean {
    /// The value.
    pub value: bool,
}

/// DNS attributes of one VPC (two `describe-vpc-attribute` outputs merged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct VpcAttributes {
    /// `vpc-…`.
    pub vpc_id: String,
    /// `enableDnsSupport`; unknown counts as enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_dns_support: Option<AttributeBoolean>,
    /// `enableDnsHostnames`; unknown counts as enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_dns_hostnames: Option<AttributeBoolean>,
}

/// `describe-subnets` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    /// `subnet-…`.
    pub subnet_id: String,
    /// `vpc-…`.
    pub vpc_id: String,
    /// IPv4 CIDR.
    pub cidr_block: String,
    /// Availability zone name (`us-east-1a`).
    pub availability_zone: String,
    /// Availability zone id (`use1-az1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone_id: Option<String>,
    /// Owning account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// `describe-route-tables` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    /// `rtb-…`.
    pub route_table_id: String,
    /// `vpc-…`.
    pub vpc_id: String,
    /// Subnet and main associations.
    #[serde(default)]
    pub associations: Vec<RouteTableAssociation>,
    /// Routes.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A route table association.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    /// True for the VPC's main route table association.
    #[serde(default)]
    pub main: bool,
    /// The explicitly associated subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// `rtbassoc-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_association_id: Option<String>,
    /// `{"State": "associated"}`; other states (disassociating…) do not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_state: Option<AssociationState>,
}

/// State of an association.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AssociationState {
    /// `associated`, `disassociated`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A route, with every target kind the API can print.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_cidr_block: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_prefix_list_id: Option<String>,
    /// `local`, `igw-…`, `vgw-…` or `vpce-…` (gateway endpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interface_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_only_internet_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_network_arn: Option<String>,
    /// `active` or `blackhole`; missing means active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// `describe-vpc-endpoints` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpoint {
    /// `vpce-…`.
    pub vpc_endpoint_id: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`, …
    pub vpc_endpoint_type: String,
    /// `vpc-…`.
    pub vpc_id: String,
    /// `com.amazonaws.<region>.<name>`.
    pub service_name: String,
    /// `available`, `pending`, `deleted`, … (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The endpoint policy, a JSON document *as a string* (as the CLI prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
    /// Gateway endpoints: associated route tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<String>,
    /// Interface endpoints: one subnet per AZ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    /// Interface endpoints: security groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<SecurityGroupIdentifier>,
    /// Interface endpoints: private DNS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_enabled: Option<bool>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// `{"GroupId": …, "GroupName": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupIdentifier {
    /// `sg-…`.
    pub group_id: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// `describe-nat-gateways` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    /// `nat-…`.
    pub nat_gateway_id: String,
    /// `vpc-…`.
    pub vpc_id: String,
    /// The NAT's own subnet (zonal NAT gateways).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// `available`, `pending`, `deleting`, `deleted`, `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `public` or `private`; missing means public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectivity_type: Option<String>,
    /// `zonal` or `regional`; missing means zonal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_mode: Option<String>,
    /// Destination-filtering appliances attached to the NAT gateway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_appliances: Vec<AttachedAppliance>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// An appliance attached to a NAT gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedAppliance {
    /// e.g. `network-firewall-proxy`.
    #[serde(default, rename = "Type", skip_serializing_if = "Option::is_none")]
    pub appliance_type: Option<String>,
    /// e.g. `attached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_state: Option<String>,
}

/// `describe-internet-gateways` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGateway {
    /// `igw-…`.
    pub internet_gateway_id: String,
    /// VPC attachments.
    #[serde(default)]
    pub attachments: Vec<InternetGatewayAttachment>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// An internet gateway's attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGatewayAttachment {
    /// `vpc-…`.
    pub vpc_id: String,
    /// `available`/`attached` count as attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// `describe-security-groups` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    /// `sg-…`.
    pub group_id: String,
    /// `vpc-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// Ingress rules.
    #[serde(default)]
    pub ip_permissions: Vec<IpPermission>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// One ingress permission.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    /// `-1`, `tcp`, `6`, `udp`, …
    pub ip_protocol: String,
    /// First port (absent for `-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i64>,
    /// Last port (absent for `-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i64>,
    /// IPv4 sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_ranges: Vec<IpRange>,
    /// Security group sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

/// `{"CidrIp": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    /// Source CIDR.
    pub cidr_ip: String,
}

/// `{"GroupId": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    /// Source group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// `describe-network-acls` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAcl {
    /// `acl-…`.
    pub network_acl_id: String,
    /// `vpc-…`.
    pub vpc_id: String,
    /// The VPC's default ACL (applies to subnets with no explicit association listed).
    #[serde(default)]
    pub is_default: bool,
    /// Subnet associations.
    #[serde(default)]
    pub associations: Vec<NetworkAclAssociation>,
    /// Entries (both directions).
    #[serde(default)]
    pub entries: Vec<NetworkAclEntry>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A network ACL association.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAclAssociation {
    /// `subnet-…`.
    pub subnet_id: String,
    /// `aclassoc-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_acl_association_id: Option<String>,
}

/// A network ACL entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAclEntry {
    /// 1–32766, or 32767 for the final `*` entry.
    pub rule_number: i64,
    /// `-1`, `6`, `17`, …
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    /// True for outbound entries.
    pub egress: bool,
    /// IPv4 CIDR (IPv6 entries have none and never match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// IPv6 CIDR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block: Option<String>,
    /// Port range for TCP/UDP entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
}

/// `{"From": …, "To": …}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    /// First port.
    pub from: i64,
    /// Last port.
    pub to: i64,
}

/// `aws ecs describe-services` entry (camelCase).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcsService {
    /// Service ARN (the finding's `service`).
    pub service_arn: String,
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Cluster ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// `ACTIVE`, `DRAINING`, `INACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `EC2`, `FARGATE`, `EXTERNAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// Capacity provider strategy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Task definition ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// `awsvpc` networking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// ECS Exec.
    #[serde(default)]
    pub enable_execute_command: bool,
    /// Tags (`--include TAGS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<EcsTag>,
}

/// One capacity provider in a strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapacityProviderStrategyItem {
    /// `FARGATE`, `FARGATE_SPOT` or an Auto Scaling group provider.
    pub capacity_provider: String,
}

/// `networkConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// `awsvpcConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awsvpc_configuration: Option<AwsVpcConfiguration>,
}

/// `awsvpcConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsVpcConfiguration {
    /// Task subnets.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Task security groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<String>,
}

/// The `taskDefinition` object of `describe-task-definition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinition {
    /// Task definition ARN (matched against the service's `taskDefinition`).
    pub task_definition_arn: String,
    /// Containers.
    #[serde(default)]
    pub container_definitions: Vec<ContainerDefinition>,
}

/// One container definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ContainerDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentials>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_files: Vec<EnvironmentFile>,
}

/// `logConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogConfiguration {
    /// `awslogs`, `awsfirelens`, `splunk`, …
    pub log_driver: String,
    /// Driver options (`awslogs-region`, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
    /// Secrets passed to the log driver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_options: Vec<Secret>,
}

/// `{"name": …, "valueFrom": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// Variable name.
    #[serde(default)]
    pub name: String,
    /// Secrets Manager ARN, SSM parameter ARN or bare parameter name.
    pub value_from: String,
}

/// `repositoryCredentials`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentials {
    /// Secrets Manager ARN.
    pub credentials_parameter: String,
}

/// `environmentFiles[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentFile {
    /// `arn:aws:s3:::bucket/key`.
    pub value: String,
    /// `s3`.
    #[serde(rename = "type")]
    pub file_type: String,
}
