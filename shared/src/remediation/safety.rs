//! The safety check: an action is simulated on a copy of the model and refused when any
//! currently working path would break.

use crate::action::Action;
use crate::evaluation::Evaluation;
use crate::model::{Endpoint, EndpointKind, Ingress, SecurityGroup, Topology};
use crate::net::{Ipv4Cidr, Ports};
use crate::tags::Tags;

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

/// Safety before applying: `Err` names the first currently working path that the
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
    use crate::testing::Topo;

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
            .endpoint_ingress(vec![crate::testing::https_from_cidr("10.0.0.0/16")]);
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
                .all(|f| f.rule != crate::rule_id::RuleId::UnreachableDependency),
            "{:?}",
            after.findings
        );
    }
}
