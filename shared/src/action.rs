//! Remediation actions: what reachguard may change (the remediation catalog), by name. A leaf
//! module: which findings propose an action, and whether it is safe, is
//! [`crate::remediation`]'s; applying it is the EC2 adapter's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::names::public_names;

/// One remediation action. Serialises as `{"action": "<name>", …ids}`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// ModifyVpcEndpoint AddRouteTableIds.
    AssociateGatewayEndpoint {
        /// Gateway endpoint.
        endpoint: String,
        /// Route table to add.
        route_table: String,
    },
    /// CreateVpcEndpoint type Gateway with the service subnets' route tables.
    CreateGatewayEndpoint {
        /// VPC.
        vpc: String,
        /// `com.amazonaws.<region>.s3` or `.dynamodb`.
        service_name: String,
        /// Route tables to associate.
        route_tables: Vec<String>,
    },
    /// ModifyVpcEndpoint PrivateDnsEnabled.
    EnablePrivateDns {
        /// Interface endpoint.
        endpoint: String,
    },
    /// CreateVpcEndpoint type Interface: one subnet per AZ, private DNS, a new security group
    /// admitting 443 from the VPC CIDR.
    CreateInterfaceEndpoint {
        /// VPC.
        vpc: String,
        /// `com.amazonaws.<region>.<name>`.
        service_name: String,
        /// One subnet per AZ the services use.
        subnets: Vec<String>,
        /// CIDR the new security group admits on 443.
        allow_https_from: String,
    },
    /// ModifyVpcEndpoint AddSubnetIds.
    AddEndpointSubnet {
        /// Interface endpoint.
        endpoint: String,
        /// Subnet in the missing AZ.
        subnet: String,
    },
    /// AuthorizeSecurityGroupIngress 443 from the VPC CIDR.
    AllowHttpsFromVpc {
        /// The endpoint's security group.
        security_group: String,
        /// The VPC CIDR.
        cidr: String,
    },
}

/// The name of an action, as in the remediation catalog and `REACHGUARD_ALLOWED_ACTIONS`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum ActionName {
    /// `associate-gateway-endpoint`
    AssociateGatewayEndpoint,
    /// `create-gateway-endpoint`
    CreateGatewayEndpoint,
    /// `enable-private-dns`
    EnablePrivateDns,
    /// `create-interface-endpoint`
    CreateInterfaceEndpoint,
    /// `add-endpoint-subnet`
    AddEndpointSubnet,
    /// `allow-https-from-vpc`
    AllowHttpsFromVpc,
}

public_names!(ActionName, "remediation action");

impl ActionName {
    /// The default allow-list: the free actions.
    pub const DEFAULT_ALLOWED: [ActionName; 3] = [
        ActionName::AssociateGatewayEndpoint,
        ActionName::CreateGatewayEndpoint,
        ActionName::EnablePrivateDns,
    ];
}

impl Action {
    /// The action's name.
    pub fn name(&self) -> ActionName {
        match self {
            Action::AssociateGatewayEndpoint { .. } => ActionName::AssociateGatewayEndpoint,
            Action::CreateGatewayEndpoint { .. } => ActionName::CreateGatewayEndpoint,
            Action::EnablePrivateDns { .. } => ActionName::EnablePrivateDns,
            Action::CreateInterfaceEndpoint { .. } => ActionName::CreateInterfaceEndpoint,
            Action::AddEndpointSubnet { .. } => ActionName::AddEndpointSubnet,
            Action::AllowHttpsFromVpc { .. } => ActionName::AllowHttpsFromVpc,
        }
    }

    /// The action in words, for notifications and the text report.
    pub fn describe(&self) -> String {
        match self {
            Action::AssociateGatewayEndpoint {
                endpoint,
                route_table,
            } => {
                format!("associate gateway endpoint {endpoint} with route table {route_table}")
            }
            Action::CreateGatewayEndpoint {
                vpc,
                service_name,
                route_tables,
            } => format!(
                "create a gateway endpoint for {service_name} in {vpc} on route tables {}",
                route_tables.join(", ")
            ),
            Action::EnablePrivateDns { endpoint } => {
                format!("enable private DNS on endpoint {endpoint}")
            }
            Action::CreateInterfaceEndpoint {
                vpc,
                service_name,
                subnets,
                allow_https_from,
            } => {
                format!(
                    "create an interface endpoint for {service_name} in {vpc} (subnets {}, private DNS, security group admitting TCP 443 from {allow_https_from})",
                    subnets.join(", ")
                )
            }
            Action::AddEndpointSubnet { endpoint, subnet } => {
                format!("add subnet {subnet} to endpoint {endpoint}")
            }
            Action::AllowHttpsFromVpc {
                security_group,
                cidr,
            } => {
                format!("allow TCP 443 from {cidr} in security group {security_group}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn action_names_round_trip() {
        for &name in ActionName::VARIANTS {
            assert_eq!(name.as_str().parse::<ActionName>(), Ok(name));
        }
        assert!("delete-everything".parse::<ActionName>().is_err());
        let json = serde_json::to_value(Action::EnablePrivateDns {
            endpoint: "vpce-1".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"action": "enable-private-dns", "endpoint": "vpce-1"})
        );
    }
}
