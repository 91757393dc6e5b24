//! Remediation plans (RULES.md §4): the actions reachguard may take, how rules choose them, and
//! the safety check that simulates an action on a copy of the model and refuses it when any
//! currently working path would break. Executing actions is the AWS adapter's job.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evaluate::Evaluation;
use crate::model::{Endpoint, EndpointKind, Ingress, SecurityGroup, Topology};
use crate::net::{Ipv4Cidr, Ports};
use crate::paths;
use crate::tags::Tags;

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

/// The name of an action, as in RULES.md §4 and `REACHGUARD_ALLOWED_ACTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

impl ActionName {
    /// Every action.
    pub const ALL: [ActionName; 6] = [
        ActionName::AssociateGatewayEndpoint,
        ActionName::CreateGatewayEndpoint,
        ActionName::EnablePrivateDns,
        ActionName::CreateInterfaceEndpoint,
        ActionName::AddEndpointSubnet,
        ActionName::AllowHttpsFromVpc,
    ];

    /// The default allow-list: the free actions.
    pub const DEFAULT_ALLOWED: [ActionName; 3] = [
        ActionName::AssociateGatewayEndpoint,
        ActionName::CreateGatewayEndpoint,
        ActionName::EnablePrivateDns,
    ];

    /// The public name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionName::AssociateGatewayEndpoint => "associate-gateway-endpoint",
            ActionName::CreateGatewayEndpoint => "create-gateway-endpoint",
            ActionName::EnablePrivateDns => "enable-private-dns",
            ActionName::CreateInterfaceEndpoint => "create-interface-endpoint",
            ActionName::AddEndpointSubnet => "add-endpoint-subnet",
            ActionName::AllowHttpsFromVpc => "allow-https-from-vpc",
        }
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionName::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ActionName::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "unknown remediation action {s:?}; the actions are: {}",
                    names.join(", ")
                )
            })
    }
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

fn https_from(cidr: &str) -> Option<Ingress> {
    Some(Ingress {
        ports: Some(Ports::HTTPS),
        cidrs: vec![cidr.parse::<Ipv4Cidr>().ok()?],
        groups: Vec::new(),
    })
}

/// Applies an action to the model (what AWS would hold afterwards). Unknown ids change nothing.
pub fn simulate(topology: &mut Topology, action: &Action) {
    match action {
        Action::AssociateGatewayEndpoint {
            endpoint,
            route_table,
        } => {
            if let Some(e) = topology.endpoints.iter_mut().find(|e| &e.id == endpoint) {
                e.route_tables.push(route_table.clone());
            }
        }
        Action::CreateGatewayEndpoint {
            vpc,
            service_name,
            route_tables,
        } => {
            let id = format!("vpce-planned-{}", topology.endpoints.len());
            topology.endpoints.push(planned_endpoint(
                id,
                vpc,
                service_name,
                EndpointKind::Gateway,
                |e| {
                    e.route_tables = route_tables.clone();
                },
            ));
        }
        Action::EnablePrivateDns { endpoint } => {
            if let Some(e) = topology.endpoints.iter_mut().find(|e| &e.id == endpoint) {
                e.private_dns = true;
            }
        }
        Action::CreateInterfaceEndpoint {
            vpc,
            service_name,
            subnets,
            allow_https_from,
        } => {
            let group = format!("sg-planned-{}", topology.security_groups.len());
            topology.security_groups.push(SecurityGroup {
                id: group.clone(),
                ingress: https_from(allow_https_from).into_iter().collect(),
            });
            let id = format!("vpce-planned-{}", topology.endpoints.len());
            topology.endpoints.push(planned_endpoint(
                id,
                vpc,
                service_name,
                EndpointKind::Interface,
                |e| {
                    e.subnets = subnets.clone();
                    e.security_groups = vec![group];
                    e.private_dns = true;
                },
            ));
        }
        Action::AddEndpointSubnet { endpoint, subnet } => {
            if let Some(e) = topology.endpoints.iter_mut().find(|e| &e.id == endpoint) {
                e.subnets.push(subnet.clone());
            }
        }
        Action::AllowHttpsFromVpc {
            security_group,
            cidr,
        } => {
            if let Some(g) = topology
                .security_groups
                .iter_mut()
                .find(|g| &g.id == security_group)
            {
                g.ingress.extend(https_from(cidr));
            }
        }
    }
    topology.reindex();
}

fn planned_endpoint(
    id: String,
    vpc: &str,
    service_name: &str,
    kind: EndpointKind,
    configure: impl FnOnce(&mut Endpoint),
) -> Endpoint {
    let mut endpoint = Endpoint {
        id,
        vpc: vpc.to_string(),
        kind,
        service: crate::model::short_service_name(service_name).to_string(),
        service_name: service_name.to_string(),
        available: true,
        state: "available".to_string(),
        policy: None,
        route_tables: Vec::new(),
        subnets: Vec::new(),
        security_groups: Vec::new(),
        private_dns: false,
        tags: Tags::default(),
    };
    configure(&mut endpoint);
    endpoint
}

/// RULES.md §4 "Safety before applying": `Err` names the first currently working path that the
/// action would break.
pub fn check_safety(topology: &Topology, action: &Action) -> Result<(), String> {
    let before = Evaluation::new(topology);
    let mut changed = topology.clone();
    simulate(&mut changed, action);
    let after = Evaluation::new(&changed);
    // Both evaluations enumerate services, subnets and dependencies in the same order.
    for (old, new) in before.paths.iter().zip(&after.paths) {
        if old.path.works() && !new.path.works() {
            let origin = after.origin_of(new);
            let why = new
                .path
                .broken
                .map(|b| b.describe(&changed, origin, &new.dependency))
                .unwrap_or_default();
            return Err(format!(
                "unsafe: it would break the working path of {} in {} to {}: {why}",
                after.service_of(new).service.arn,
                new.subnet.id,
                new.dependency
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::Topo;

    fn topology(t: &Topo) -> Topology {
        Topology::from_snapshot(&t.doc).unwrap()
    }

    #[test]
    fn safety_refuses_actions_that_break_working_paths() {
        // logs works through the NAT; the endpoint's security group blocks the tasks.
        let blocked_endpoint = Topo::nat_only()
            .interface_endpoint("vpce-logs", "logs", &["subnet-a"])
            .endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false))
            .endpoint_ingress(vec![]);
        let err = check_safety(
            &topology(&blocked_endpoint),
            &Action::EnablePrivateDns {
                endpoint: "vpce-logs".into(),
            },
        )
        .unwrap_err();
        assert!(err.contains("subnet-a to logs"), "{err}");
        assert!(err.contains("admits TCP 443"), "{err}");

        let open_endpoint = blocked_endpoint
            .clone()
            .endpoint_ingress(vec![crate::rules::testing::https_from_cidr("10.0.0.0/16")]);
        assert_eq!(
            check_safety(
                &topology(&open_endpoint),
                &Action::EnablePrivateDns {
                    endpoint: "vpce-logs".into()
                }
            ),
            Ok(())
        );

        let no_layers = Topo::nat_only()
            .gateway_endpoint("vpce-s3", "s3", &[])
            .endpoint_mut("vpce-s3", |e| e.policy_document = Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::mine/*"}]}"#.into()));
        let associate = Action::AssociateGatewayEndpoint {
            endpoint: "vpce-s3".into(),
            route_table: "rtb-private".into(),
        };
        assert!(
            check_safety(&topology(&no_layers), &associate)
                .unwrap_err()
                .contains("to s3")
        );
    }

    #[test]
    fn planned_endpoints_repair_the_paths_they_target() {
        let t = Topo::base();
        let mut model = topology(&t);
        let report = crate::evaluate::evaluate(&model);
        let mut plan: Vec<Action> = report
            .findings
            .iter()
            .flat_map(|f| f.remediation.clone())
            .collect();
        plan.sort();
        plan.dedup();
        assert_eq!(
            plan.iter().map(|a| a.name().as_str()).collect::<Vec<_>>(),
            [
                "create-gateway-endpoint",
                "create-interface-endpoint",
                "create-interface-endpoint",
                "create-interface-endpoint"
            ]
        );
        for action in &plan {
            assert_eq!(check_safety(&model, action), Ok(()));
            simulate(&mut model, action);
        }
        let after = crate::evaluate::evaluate(&model);
        assert!(
            after
                .findings
                .iter()
                .all(|f| f.rule != crate::rules::RuleId::UnreachableDependency),
            "{:?}",
            after.findings
        );
    }

    #[test]
    fn action_names_round_trip() {
        for name in ActionName::ALL {
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
