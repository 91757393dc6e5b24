//! The `endpoint-private-dns-disabled` rule.
//!
//! ## What it checks
//! An available interface endpoint, in a VPC with a service, for a dependency of a service there
//! that such an endpoint could serve, has private DNS disabled.
//!
//! ## Why it matters
//! Without private DNS the service's hostname still resolves to public addresses: the endpoint
//! captures nothing, and the traffic leaves through NAT (billed) or fails.
//!
//! ## Example
//! `vpce-logs` (logs) with `PrivateDnsEnabled: false` while `svc` logs with awslogs → fires with
//! `enable-private-dns`; an S3 interface endpoint when S3 is only needed for ECR layers does not.
//!
//! ## Remediation
//! `enable-private-dns` (free, in the default allow-list). The safety check refuses it when the
//! endpoint would then capture traffic it blocks (security group or ACL).

use super::Rule;
use crate::action::Action;
use crate::evaluation::{Evaluation, Findings};
use crate::model::EndpointKind;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::EndpointPrivateDnsDisabled,
    summary: "an interface endpoint for a service's dependency has private DNS disabled",
    explanation: super::explanation!("endpoint_private_dns_disabled"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for vpc in eval.service_vpcs() {
        let endpoints = eval
            .topology
            .endpoints_in(vpc)
            .filter(|e| e.available && e.kind == EndpointKind::Interface && !e.private_dns);
        for endpoint in endpoints {
            let Some(user) = eval.services.iter().find(|s| {
                s.vpc == vpc
                    && s.deps.needs.contains_key(&endpoint.service)
                    && s.deps.interface_endpoint_can_serve(&endpoint.service)
            }) else {
                continue;
            };
            let mut f = eval.finding(RULE.id, vpc);
            f.endpoint = Some(endpoint.id.clone());
            f.service = Some(user.service.arn.clone());
            f.dependency = Some(endpoint.service.clone());
            f.message = format!(
                "interface endpoint {} ({}) has private DNS disabled, so {} resolves to public addresses and the endpoint carries no traffic for {}: enable private DNS",
                endpoint.id, endpoint.service, endpoint.service, user.service.arn
            );
            f.remediation = vec![Action::EnablePrivateDns {
                endpoint: endpoint.id.clone(),
            }];
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    #[test]
    fn fires_only_for_endpoints_a_service_could_use() {
        let dns_off =
            |t: Topo, id: &str| t.endpoint_mut(id, |e| e.private_dns_enabled = Some(false));
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("private DNS on", Topo::endpoint_only(), vec![]),
            (
                "logs endpoint, private DNS off",
                dns_off(Topo::endpoint_only(), "vpce-logs"),
                vec!["vpce-logs"],
            ),
            (
                "endpoint for a service nobody needs",
                dns_off(
                    Topo::endpoint_only().interface_endpoint("vpce-sqs", "sqs", &["subnet-a"]),
                    "vpce-sqs",
                ),
                vec![],
            ),
            (
                "declared need counts",
                dns_off(
                    Topo::endpoint_only().interface_endpoint("vpce-sqs", "sqs", &["subnet-a"]),
                    "vpce-sqs",
                )
                .needs("svc", "sqs"),
                vec!["vpce-sqs"],
            ),
            (
                "S3 interface endpoint, S3 only for ECR layers",
                dns_off(
                    Topo::endpoint_only().interface_endpoint("vpce-s3i", "s3", &["subnet-a"]),
                    "vpce-s3i",
                ),
                vec![],
            ),
            (
                "endpoint not available",
                dns_off(Topo::endpoint_only(), "vpce-logs")
                    .endpoint_mut("vpce-logs", |e| e.state = Some("pendingAcceptance".into())),
                vec![],
            ),
            (
                "VPC without a service",
                dns_off(Topo::endpoint_only(), "vpce-logs").with(|d| d.services.clear()),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::EndpointPrivateDnsDisabled),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn plan_enables_private_dns() {
        let f = &Topo::endpoint_only()
            .endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false))
            .findings(RuleId::EndpointPrivateDnsDisabled)[0];
        assert_eq!(
            f.remediation,
            vec![Action::EnablePrivateDns {
                endpoint: "vpce-logs".into()
            }]
        );
    }
}
