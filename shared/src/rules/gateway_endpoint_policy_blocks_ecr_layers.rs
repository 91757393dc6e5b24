//! The `gateway-endpoint-policy-blocks-ecr-layers` rule.
//!
//! ## What it checks
//! An S3 gateway endpoint on an ECR-pulling service subnet's route table does not allow
//! `s3:GetObject` on `arn:aws:s3:::prod-<region>-starport-layer-bucket/*`, the bucket ECR serves
//! image layers from (IAM semantics: an explicit Deny wins; a conditional Allow is assumed to
//! apply, a conditional Deny not to).
//!
//! ## Why it matters
//! The endpoint's prefix-list route captures all S3 traffic of the subnet, so image pulls fail even
//! when a NAT gateway exists.
//!
//! ## Example
//! A policy allowing only `arn:aws:s3:::my-bucket/*` → fires; the AWS default full-access policy
//! does not.
//!
//! ## Remediation
//! Notify only: add the layer bucket to the endpoint policy. Endpoint policies are never changed
//! automatically.

use super::Rule;
use crate::evaluation::{Evaluation, Findings};
use crate::paths::{Break, ecr_layer_bucket};
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::GatewayEndpointPolicyBlocksEcrLayers,
    summary: "an S3 gateway endpoint on an ECR-pulling subnet's route table denies the ECR layer bucket",
    explanation: super::explanation!("gateway_endpoint_policy_blocks_ecr_layers"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in &eval.paths {
        let Some(Break::PolicyBlocksEcrLayers(endpoint)) = p.path.broken else {
            continue;
        };
        let mut f = eval.finding(RULE.id, &p.subnet.vpc);
        f.endpoint = Some(endpoint.id.clone());
        f.route_table = p.path.route_table.map(|t| t.id.clone());
        f.service = Some(eval.service_of(p).service.arn.clone());
        f.subnet = Some(p.subnet.id.clone());
        f.dependency = Some("s3".to_string());
        f.message = format!(
            "S3 gateway endpoint {} captures S3 traffic of {} but its policy does not allow s3:GetObject on {}: image layer downloads from ECR fail; add a statement allowing it",
            endpoint.id,
            p.subnet.id,
            ecr_layer_bucket(&eval.topology.region)
        );
        f.path = Some(
            p.path
                .report(eval.topology, eval.origin_of(p), &p.dependency),
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    fn with_policy(policy: &str) -> Topo {
        Topo::endpoint_only().endpoint_mut("vpce-s3", |e| e.policy_document = Some(policy.into()))
    }

    #[test]
    fn policies() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("no policy allows everything", Topo::endpoint_only(), vec![]),
            (
                "full access",
                with_policy(
                    r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
                ),
                vec![],
            ),
            (
                "only another bucket",
                with_policy(
                    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket/*"}]}"#,
                ),
                vec!["vpce-s3"],
            ),
            (
                "explicit deny of the layer bucket",
                with_policy(
                    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::prod-us-east-1-*"}]}"#,
                ),
                vec!["vpce-s3"],
            ),
            (
                "no ECR image: policy irrelevant",
                with_policy(r#"{"Statement":[]}"#)
                    .with(|d| {
                        d.task_definitions[0].container_definitions[0].image = Some("nginx".into())
                    })
                    .needs("svc", "s3"),
                vec![],
            ),
            (
                "endpoint not on the subnet's route table",
                with_policy(r#"{"Statement":[]}"#)
                    .endpoint_mut("vpce-s3", |e| e.route_table_ids = vec!["rtb-pub".into()]),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::GatewayEndpointPolicyBlocksEcrLayers),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn notify_only() {
        let f = &with_policy(r#"{"Statement":[]}"#)
            .findings(RuleId::GatewayEndpointPolicyBlocksEcrLayers)[0];
        assert!(f.remediation.is_empty());
        assert!(
            f.message.contains("prod-us-east-1-starport-layer-bucket"),
            "{}",
            f.message
        );
    }
}
