//! The `nat-for-gateway-service` rule.
//!
//! ## What it checks
//! A service subnet reaches `s3` or `dynamodb` through a working NAT gateway while the VPC has no
//! gateway endpoint for it.
//!
//! ## Why it matters
//! Every GB is billed as NAT data processing; the gateway endpoint is free and keeps the traffic on
//! the AWS network.
//!
//! ## Example
//! Image layers pulled through `nat-a` with no S3 gateway endpoint → fires for (`vpc-1`, `s3`) with
//! `create-gateway-endpoint` on the service route tables. With `NatGatewayMetrics`, the message
//! and `nat_traffic` carry the NAT gateway's processed GB and monthly data-processing cost: its
//! total, since CloudWatch does not split it by destination.
//!
//! ## Remediation
//! `create-gateway-endpoint` associated with the service subnets' route tables (free, in the
//! default allow-list).

use super::Rule;
use super::nat_traffic::figures_clause;
use crate::deps::GATEWAY_SERVICES;
use crate::evaluation::{Evaluation, Findings};
use crate::model::{EndpointKind, RouteTarget};
use crate::paths::Via;
use crate::remediation;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NatForGatewayService,
    summary: "S3/DynamoDB traffic goes through a NAT gateway (billed per GB) and the VPC has no gateway endpoint for it",
    explanation: super::explanation!("nat_for_gateway_service"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in eval.paths.iter().filter(|p| p.path.works()) {
        let Via::DefaultRoute(route) = p.path.via else {
            continue;
        };
        let RouteTarget::NatGateway(nat) = &route.target else {
            continue;
        };
        let dependency = p.dependency.as_str();
        let vpc = p.subnet.vpc.as_str();
        let has_endpoint = eval
            .topology
            .available_endpoints(vpc, EndpointKind::Gateway, dependency)
            .next()
            .is_some();
        if !GATEWAY_SERVICES.contains(&dependency) || has_endpoint {
            continue;
        }
        let mut f = eval.finding(RULE.id, vpc);
        f.dependency = Some(dependency.to_string());
        f.nat_gateway = Some(nat.clone());
        f.subnet = Some(p.subnet.id.clone());
        let (traffic, measured) = figures_clause(eval, nat, dependency);
        f.nat_traffic = traffic;
        f.message = format!(
            "{dependency} traffic from {} goes through NAT gateway {nat}, billed per GB, and {vpc} has no {dependency} gateway endpoint: create one (free) on the service route tables{measured}",
            p.subnet.id
        );
        f.remediation = vec![remediation::create_gateway_endpoint(eval, vpc, dependency)];
        f.path = Some(p.path.report(eval.topology, eval.origin_of(p), dependency));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::testing::Topo;

    #[test]
    fn fires_for_nat_paths_without_endpoint() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("ECR layers through NAT", Topo::nat_only(), vec!["vpc-1|s3"]),
            (
                "dynamodb too",
                Topo::nat_only().needs("svc", "dynamodb"),
                vec!["vpc-1|dynamodb", "vpc-1|s3"],
            ),
            (
                "gateway endpoint exists (even unassociated)",
                Topo::nat_only().gateway_endpoint("vpce-s3", "s3", &[]),
                vec![],
            ),
            (
                "NAT broken: unreachable, not cost",
                Topo::nat_only().nat_mut("nat-a", |n| n.state = Some("failed".into())),
                vec![],
            ),
            (
                "IGW path with public IP is not NAT",
                Topo::base()
                    .default_route("rtb-private", "igw-1")
                    .service_mut("svc", |s| {
                        s.network_configuration
                            .as_mut()
                            .unwrap()
                            .awsvpc_configuration
                            .as_mut()
                            .unwrap()
                            .assign_public_ip = Some("ENABLED".into())
                    }),
                vec![],
            ),
            (
                "interface-only dependencies are not gateway services",
                Topo::nat_only().with(|d| {
                    d.task_definitions[0].container_definitions[0].image = Some("nginx".into())
                }),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::NatForGatewayService),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn carries_the_nat_total_and_cost_when_measured() {
        use crate::settings::EvaluationSettings;
        use crate::testing::measured_nat;
        let unmeasured = &Topo::nat_only().findings(RuleId::NatForGatewayService)[0];
        assert_eq!(unmeasured.nat_traffic, None);
        assert!(
            !unmeasured.message.contains("processed"),
            "{}",
            unmeasured.message
        );

        let measured = Topo::nat_only().nat_metrics(measured_nat("nat-a", |_| {}));
        let f = &measured.findings(RuleId::NatForGatewayService)[0];
        let figures = f.nat_traffic.as_ref().expect("figures");
        assert_eq!(
            (figures.nat_gateway.as_str(), figures.window_days),
            ("nat-a", 7)
        );
        assert_eq!(figures.processed_gb, 20.0, "bytes received from both sides");
        assert_eq!(
            figures.usd_per_gb,
            Some(0.045),
            "us-east-1's published rate"
        );
        assert!(
            f.message.contains(
                "NAT gateway nat-a processed 20.0 GB in the last 7 days, about $3.91 a month in data processing at $0.045/GB (its total: CloudWatch does not split NAT traffic by destination"
            ),
            "{}",
            f.message
        );
        let overridden = EvaluationSettings {
            usd_per_gb: Some(0.09),
            ..EvaluationSettings::default()
        };
        let f = &measured.findings_with(RuleId::NatForGatewayService, overridden)[0];
        assert!(f.message.contains("about $7.82 a month"), "{}", f.message);
    }

    #[test]
    fn plan_creates_the_gateway_endpoint_on_service_route_tables() {
        let f = &Topo::nat_only().findings(RuleId::NatForGatewayService)[0];
        assert_eq!(
            f.remediation,
            vec![Action::CreateGatewayEndpoint {
                vpc: "vpc-1".into(),
                service_name: "com.amazonaws.us-east-1.s3".into(),
                route_tables: vec!["rtb-private".into()]
            }]
        );
    }
}
