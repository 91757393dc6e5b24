//! The `gateway-endpoint-not-associated` rule.
//!
//! ## What it checks
//! The VPC has a gateway endpoint for a service subnet's `s3`/`dynamodb` dependency, but the
//! subnet's route table is associated with none of the VPC's gateway endpoints for that service —
//! whatever other path exists. One finding per such endpoint.
//!
//! ## Why it matters
//! The free endpoint is bypassed: the traffic goes through NAT (billed per GB) or nowhere.
//!
//! ## Example
//! `vpce-s3` on `rtb-other` only, tasks on `rtb-private` → fires for (`vpce-s3`, `rtb-private`)
//! with `associate-gateway-endpoint`.
//!
//! ## Remediation
//! `associate-gateway-endpoint` (free, in the default allow-list), on one endpoint whose policy
//! allows what the subnet needs (a route table takes one endpoint per service); no plan when none
//! does.

use super::Rule;
use crate::deps::GATEWAY_SERVICES;
use crate::evaluation::{Evaluation, Findings};
use crate::model::EndpointKind;
use crate::remediation;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::GatewayEndpointNotAssociated,
    summary: "the VPC has an S3/DynamoDB gateway endpoint but a service subnet's route table is not associated with it",
    explanation: super::explanation!("gateway_endpoint_not_associated"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in eval
        .paths
        .iter()
        .filter(|p| GATEWAY_SERVICES.contains(&p.dependency.as_str()))
    {
        let Some(table) = p.path.route_table else {
            continue;
        };
        let vpc = p.subnet.vpc.as_str();
        let endpoints: Vec<_> = eval
            .topology
            .available_endpoints(vpc, EndpointKind::Gateway, &p.dependency)
            .collect();
        if endpoints.iter().any(|e| e.route_tables.contains(&table.id)) {
            continue;
        }
        let chosen = remediation::associate_gateway_endpoint(eval, vpc, &p.dependency, &table.id);
        for endpoint in endpoints {
            let mut f = eval.finding(RULE.id, vpc);
            f.endpoint = Some(endpoint.id.clone());
            f.route_table = Some(table.id.clone());
            f.subnet = Some(p.subnet.id.clone());
            f.dependency = Some(p.dependency.clone());
            f.message = format!(
                "{} needs {} from {}, but its route table {} is not associated with gateway endpoint {} (free; the traffic takes {} instead): associate the route table",
                eval.service_of(p).service.arn,
                p.dependency,
                p.subnet.id,
                table.id,
                endpoint.id,
                table
                    .default_route()
                    .map_or("no path".to_string(), |r| format!(
                        "the default route to {}",
                        r.target.id()
                    ))
            );
            f.remediation = chosen
                .as_ref()
                .filter(|(e, _)| e.id == endpoint.id)
                .map(|(_, action)| action.clone())
                .into_iter()
                .collect();
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::testing::Topo;

    const DENY_LAYERS: &str = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket/*"}]}"#;

    #[test]
    fn fires_per_unassociated_endpoint() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("associated", Topo::endpoint_only(), vec![]),
            (
                "endpoint on another route table",
                Topo::nat_only().gateway_endpoint("vpce-s3", "s3", &["rtb-pub"]),
                vec!["vpce-s3|rtb-private"],
            ),
            ("no gateway endpoint at all", Topo::nat_only(), vec![]),
            (
                "dynamodb declared, endpoint elsewhere",
                Topo::endpoint_only()
                    .needs("svc", "dynamodb")
                    .gateway_endpoint("vpce-ddb", "dynamodb", &[]),
                vec!["vpce-ddb|rtb-private"],
            ),
            (
                "two endpoints, one associated",
                Topo::endpoint_only().gateway_endpoint("vpce-s3-2", "s3", &[]),
                vec![],
            ),
            (
                "two endpoints, none associated: one finding each",
                Topo::nat_only()
                    .gateway_endpoint("vpce-s3", "s3", &[])
                    .gateway_endpoint("vpce-s3-2", "s3", &[]),
                vec!["vpce-s3|rtb-private", "vpce-s3-2|rtb-private"],
            ),
            (
                "unavailable endpoint does not count",
                Topo::nat_only()
                    .gateway_endpoint("vpce-s3", "s3", &[])
                    .endpoint_mut("vpce-s3", |e| e.state = Some("deleted".into())),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::GatewayEndpointNotAssociated),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn plan_picks_an_endpoint_whose_policy_allows_the_layers() {
        let t = Topo::nat_only()
            .gateway_endpoint("vpce-s3-1", "s3", &[])
            .endpoint_mut("vpce-s3-1", |e| {
                e.policy_document = Some(DENY_LAYERS.into())
            })
            .gateway_endpoint("vpce-s3-2", "s3", &[]);
        let plans: Vec<(String, Vec<Action>)> = t
            .findings(RuleId::GatewayEndpointNotAssociated)
            .into_iter()
            .map(|f| (f.endpoint.unwrap(), f.remediation))
            .collect();
        let associate = Action::AssociateGatewayEndpoint {
            endpoint: "vpce-s3-2".into(),
            route_table: "rtb-private".into(),
        };
        assert_eq!(
            plans,
            vec![
                ("vpce-s3-1".to_string(), vec![]),
                ("vpce-s3-2".to_string(), vec![associate])
            ]
        );
        let none_fits = Topo::nat_only()
            .gateway_endpoint("vpce-s3-1", "s3", &[])
            .endpoint_mut("vpce-s3-1", |e| {
                e.policy_document = Some(DENY_LAYERS.into())
            });
        assert!(
            none_fits.findings(RuleId::GatewayEndpointNotAssociated)[0]
                .remediation
                .is_empty()
        );
    }
}
