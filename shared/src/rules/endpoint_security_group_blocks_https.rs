//! The `endpoint-security-group-blocks-https` rule.
//!
//! ## What it checks
//! An interface endpoint that captures a service subnet's traffic admits no TCP 443 from the tasks
//! of a service in that subnet: none of its security groups has a rule with protocol `-1` or TCP
//! covering 443 whose CIDR contains the subnet or whose source group is one of the service's
//! groups.
//!
//! ## Why it matters
//! Private DNS sends the traffic to the endpoint, which drops it: an outage that a NAT gateway
//! cannot mask.
//!
//! ## Example
//! `sg-endpoint` admits 443 only from 10.9.0.0/16 → fires for (`vpce-logs`, `subnet-a`) with
//! `allow-https-from-vpc`; a rule naming `sg-task` as source does not fire.
//!
//! ## Remediation
//! `allow-https-from-vpc` on the endpoint's security group (opt-in: a security change).

use super::Rule;
use crate::action::Action;
use crate::evaluation::{Evaluation, Findings};
use crate::paths::{Break, Via};
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::EndpointSecurityGroupBlocksHttps,
    summary: "an interface endpoint that captures a service subnet's traffic admits no TCP 443 from its tasks",
    explanation: super::explanation!("endpoint_security_group_blocks_https"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in &eval.paths {
        let (Via::InterfaceEndpoint(endpoint), Some(Break::SecurityGroup(_))) =
            (p.path.via, p.path.broken)
        else {
            continue;
        };
        let origin = eval.origin_of(p);
        let report = p.path.report(eval.topology, origin, &p.dependency);
        let vpc_cidr = eval.topology.vpc(&p.subnet.vpc).and_then(|v| v.cidr);
        let cidr = vpc_cidr
            .filter(|c| c.contains(&p.subnet.cidr))
            .unwrap_or(p.subnet.cidr);
        let mut f = eval.finding(RULE.id, &p.subnet.vpc);
        f.endpoint = Some(endpoint.id.clone());
        f.subnet = Some(p.subnet.id.clone());
        f.service = Some(eval.service_of(p).service.arn.clone());
        f.dependency = Some(p.dependency.clone());
        f.availability_zone = Some(p.subnet.az.clone());
        f.message = format!(
            "{} traffic from {} is captured by interface endpoint {} through private DNS, but {}: allow TCP 443 from {cidr}",
            p.dependency,
            p.subnet.id,
            endpoint.id,
            report.broken_at.as_deref().unwrap_or("")
        );
        f.remediation = endpoint
            .security_groups
            .iter()
            .find(|g| eval.topology.security_group(g).is_some())
            .map(|group| Action::AllowHttpsFromVpc {
                security_group: group.clone(),
                cidr: cidr.to_string(),
            })
            .into_iter()
            .collect();
        f.path = Some(report);
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{IpPermission, UserIdGroupPair};
    use crate::testing::{Topo, https_from_cidr};

    fn from_group(group: &str) -> IpPermission {
        IpPermission {
            ip_protocol: "tcp".into(),
            from_port: Some(443),
            to_port: Some(443),
            user_id_group_pairs: vec![UserIdGroupPair {
                group_id: Some(group.into()),
            }],
            ..Default::default()
        }
    }

    fn logs_only() -> Topo {
        Topo::nat_only().interface_endpoint("vpce-logs", "logs", &["subnet-a", "subnet-b"])
    }

    #[test]
    fn ingress_rules_per_rules_md_section_2_2() {
        let all = |p: &str, from: Option<i64>, to: Option<i64>| IpPermission {
            ip_protocol: p.into(),
            from_port: from,
            to_port: to,
            ip_ranges: vec![crate::snapshot::IpRange {
                cidr_ip: "10.0.0.0/16".into(),
            }],
            ..Default::default()
        };
        let cases: Vec<(&str, Vec<IpPermission>, Vec<&str>)> = vec![
            (
                "443 from the VPC CIDR",
                vec![https_from_cidr("10.0.0.0/16")],
                vec![],
            ),
            (
                "443 from exactly the task subnet",
                vec![https_from_cidr("10.0.1.0/24")],
                vec![],
            ),
            (
                "443 from a partially overlapping CIDR",
                vec![https_from_cidr("10.0.1.0/25")],
                vec!["vpce-logs|subnet-a"],
            ),
            (
                "443 from another CIDR",
                vec![https_from_cidr("10.9.0.0/16")],
                vec!["vpce-logs|subnet-a"],
            ),
            ("protocol -1", vec![all("-1", None, None)], vec![]),
            (
                "tcp range containing 443",
                vec![all("tcp", Some(1), Some(1024))],
                vec![],
            ),
            (
                "tcp range without 443",
                vec![all("tcp", Some(8443), Some(8443))],
                vec!["vpce-logs|subnet-a"],
            ),
            (
                "udp 443",
                vec![all("udp", Some(443), Some(443))],
                vec!["vpce-logs|subnet-a"],
            ),
            (
                "the service's security group as source",
                vec![from_group("sg-task")],
                vec![],
            ),
            (
                "another security group as source",
                vec![from_group("sg-other")],
                vec!["vpce-logs|subnet-a"],
            ),
            ("no rules", vec![], vec!["vpce-logs|subnet-a"]),
        ];
        for (case, rules, expected) in cases {
            assert_eq!(
                logs_only()
                    .endpoint_ingress(rules)
                    .subjects(RuleId::EndpointSecurityGroupBlocksHttps),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn only_endpoints_that_capture() {
        let blocked = || logs_only().endpoint_ingress(vec![]);
        let dns_off = blocked().endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false));
        assert!(
            dns_off
                .subjects(RuleId::EndpointSecurityGroupBlocksHttps)
                .is_empty(),
            "no private DNS: no capture"
        );
        let unused = blocked()
            .with(|d| d.task_definitions[0].container_definitions[0].log_configuration = None);
        assert!(
            unused
                .subjects(RuleId::EndpointSecurityGroupBlocksHttps)
                .is_empty(),
            "nobody needs logs"
        );
    }

    #[test]
    fn plan_allows_https_from_the_vpc() {
        let f = &logs_only()
            .endpoint_ingress(vec![])
            .findings(RuleId::EndpointSecurityGroupBlocksHttps)[0];
        assert_eq!(
            f.remediation,
            vec![Action::AllowHttpsFromVpc {
                security_group: "sg-endpoint".into(),
                cidr: "10.0.0.0/16".into()
            }]
        );
        assert!(f.message.contains("admits TCP 443"), "{}", f.message);
    }
}
