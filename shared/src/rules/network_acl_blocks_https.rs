//! The `network-acl-blocks-https` rule.
//!
//! ## What it checks
//! A network ACL on a service subnet's path (the task subnet's, or an interface endpoint subnet's)
//! makes the path fail: outbound TCP 443, or inbound return traffic on the ephemeral range
//! 32768–60999, denied in rule-number order. The subject's `subnet` is always the task subnet.
//!
//! ## Why it matters
//! ACLs are stateless: forgetting the ephemeral return range silently breaks every HTTPS call.
//!
//! ## Example
//! `acl-test` on `subnet-a` allows inbound 0–1023 only → fires for (`acl-test`, `subnet-a`).
//!
//! ## Remediation
//! Notify only: allow TCP 443 out and 32768–60999 in. Network ACLs are never changed automatically.

use super::Rule;
use crate::evaluation::{Evaluation, Findings};
use crate::paths::Break;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NetworkAclBlocksHttps,
    summary: "a network ACL on a service subnet's path denies HTTPS or its ephemeral return traffic",
    explanation: super::explanation!("network_acl_blocks_https"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in &eval.paths {
        let Some(Break::Acl(block)) = p.path.broken else {
            continue;
        };
        let report = p
            .path
            .report(eval.topology, eval.origin_of(p), &p.dependency);
        let mut f = eval.finding(RULE.id, &p.subnet.vpc);
        f.network_acl = Some(block.acl.id.clone());
        f.subnet = Some(p.subnet.id.clone());
        f.service = Some(eval.service_of(p).service.arn.clone());
        f.dependency = Some(p.dependency.clone());
        f.message = format!(
            "the path of {} to {} ({}) fails: {}; allow outbound TCP 443 and inbound TCP 32768-60999 for that peer",
            p.subnet.id,
            p.dependency,
            report.via,
            block.describe()
        );
        f.path = Some(report);
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Topo, acl_entry};

    fn allow_all() -> Vec<crate::snapshot::NetworkAclEntry> {
        vec![
            acl_entry(100, true, true, None, "0.0.0.0/0"),
            acl_entry(100, false, true, None, "0.0.0.0/0"),
        ]
    }

    #[test]
    fn acl_decisions_on_the_path() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            (
                "allow all",
                Topo::nat_only().acl(&["subnet-a"], allow_all()),
                vec![],
            ),
            (
                "inbound only well-known ports",
                Topo::nat_only().acl(
                    &["subnet-a"],
                    vec![
                        acl_entry(100, true, true, None, "0.0.0.0/0"),
                        acl_entry(100, false, true, Some((0, 1023)), "0.0.0.0/0"),
                    ],
                ),
                vec!["acl-test|subnet-a"],
            ),
            (
                "outbound 443 denied before the allow",
                Topo::nat_only().acl(
                    &["subnet-a"],
                    vec![
                        acl_entry(90, true, false, Some((443, 443)), "0.0.0.0/0"),
                        acl_entry(100, true, true, None, "0.0.0.0/0"),
                        acl_entry(100, false, true, None, "0.0.0.0/0"),
                    ],
                ),
                vec!["acl-test|subnet-a"],
            ),
            (
                "allow after a later deny still wins",
                Topo::nat_only().acl(
                    &["subnet-a"],
                    vec![
                        acl_entry(100, true, true, None, "0.0.0.0/0"),
                        acl_entry(200, true, false, Some((443, 443)), "0.0.0.0/0"),
                        acl_entry(100, false, true, None, "0.0.0.0/0"),
                    ],
                ),
                vec![],
            ),
            (
                "VPC-only entries do not match the NAT peer",
                Topo::nat_only().acl(
                    &["subnet-a"],
                    vec![
                        acl_entry(100, true, true, None, "10.0.0.0/16"),
                        acl_entry(100, false, true, None, "10.0.0.0/16"),
                    ],
                ),
                vec!["acl-test|subnet-a"],
            ),
            (
                "VPC-only entries suffice for interface endpoints",
                Topo::endpoint_only()
                    .with(|d| {
                        d.task_definitions[0].container_definitions[0].image = Some("nginx".into())
                    })
                    .with(|d| {
                        d.task_definitions[0].container_definitions.push(
                            crate::snapshot::ContainerDefinition {
                                image: Some(crate::testing::ECR_IMAGE.into()),
                                ..Default::default()
                            },
                        )
                    })
                    .acl(
                        &["subnet-a"],
                        vec![
                            acl_entry(100, true, true, None, "10.0.0.0/16"),
                            acl_entry(100, false, true, None, "10.0.0.0/16"),
                        ],
                    )
                    .with(|d| d.task_definitions[0].container_definitions.truncate(1)),
                vec![],
            ),
            (
                "endpoint subnet's ACL denies 443 from the task subnet",
                Topo::endpoint_only()
                    .endpoint_mut("vpce-logs", |e| e.subnet_ids = vec!["subnet-b".into()])
                    .acl(
                        &["subnet-b"],
                        vec![
                            acl_entry(100, true, true, None, "0.0.0.0/0"),
                            acl_entry(100, false, true, Some((1024, 65535)), "0.0.0.0/0"),
                        ],
                    ),
                vec!["acl-test|subnet-a"],
            ),
            (
                "endpoint ENI in the task subnet: no ACL between them",
                Topo::endpoint_only().acl(
                    &["subnet-a"],
                    vec![
                        acl_entry(100, true, true, None, "10.0.1.0/24"),
                        acl_entry(100, false, true, None, "10.0.1.0/24"),
                        acl_entry(110, true, true, None, "0.0.0.0/0"),
                        acl_entry(110, false, true, None, "0.0.0.0/0"),
                    ],
                ),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::NetworkAclBlocksHttps),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn message_names_entry_direction_and_peer() {
        let t = Topo::nat_only().acl(
            &["subnet-a"],
            vec![
                acl_entry(100, true, true, None, "0.0.0.0/0"),
                acl_entry(100, false, true, Some((0, 1023)), "0.0.0.0/0"),
            ],
        );
        let f = &t.findings(RuleId::NetworkAclBlocksHttps)[0];
        assert!(
            f.message.contains(
                "network ACL acl-test of subnet-a denies inbound TCP 32768-60999 from 0.0.0.0/0"
            ),
            "{}",
            f.message
        );
        assert!(f.remediation.is_empty());
    }
}
