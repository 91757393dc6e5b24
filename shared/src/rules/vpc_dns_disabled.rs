//! The `vpc-dns-disabled` rule.
//!
//! ## What it checks
//! A VPC with a service has an available interface endpoint with private DNS enabled, but its
//! attribute `enableDnsSupport` or `enableDnsHostnames` is false.
//!
//! ## Why it matters
//! Private DNS only works when both attributes are on; otherwise every interface endpoint in the
//! VPC silently captures nothing.
//!
//! ## Example
//! `vpc-1` with `enableDnsHostnames: false` and `vpce-ecr-dkr` (private DNS) → fires; attributes
//! the input lacks count as enabled.
//!
//! ## Remediation
//! Notify only: turn both attributes on (`aws ec2 modify-vpc-attribute`). VPC attributes are never
//! changed automatically.

use super::Rule;
use crate::evaluation::{Evaluation, Findings};
use crate::model::EndpointKind;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::VpcDnsDisabled,
    summary: "a VPC with interface endpoints (private DNS) has enableDnsSupport or enableDnsHostnames off",
    explanation: super::explanation!("vpc_dns_disabled"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for vpc_id in eval.service_vpcs() {
        let Some(vpc) = eval.topology.vpc(vpc_id) else {
            continue;
        };
        if vpc.dns_support && vpc.dns_hostnames {
            continue;
        }
        let endpoints: Vec<&str> = eval
            .topology
            .endpoints_in(vpc_id)
            .filter(|e| e.available && e.kind == EndpointKind::Interface && e.private_dns)
            .map(|e| e.id.as_str())
            .collect();
        if endpoints.is_empty() {
            continue;
        }
        let off: Vec<&str> = [
            ("enableDnsSupport", vpc.dns_support),
            ("enableDnsHostnames", vpc.dns_hostnames),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(name, _)| name)
        .collect();
        let mut f = eval.finding(RULE.id, vpc_id);
        f.message = format!(
            "{vpc_id} has {} off, so the private DNS of its interface endpoints ({}) is not effective: turn both attributes on (ModifyVpcAttribute)",
            off.join(" and "),
            endpoints.join(", ")
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    #[test]
    fn fires_when_an_attribute_is_off_and_private_dns_is_in_use() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("both on", Topo::endpoint_only().vpc_dns(true, true), vec![]),
            (
                "attributes unknown count as on",
                Topo::endpoint_only(),
                vec![],
            ),
            (
                "hostnames off",
                Topo::endpoint_only().vpc_dns(true, false),
                vec!["vpc-1"],
            ),
            (
                "support off",
                Topo::endpoint_only().vpc_dns(false, true),
                vec!["vpc-1"],
            ),
            (
                "no interface endpoint with private DNS",
                Topo::nat_only().vpc_dns(false, false),
                vec![],
            ),
            (
                "no service in the VPC",
                Topo::endpoint_only()
                    .vpc_dns(false, false)
                    .with(|d| d.services.clear()),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::VpcDnsDisabled), expected, "{case}");
        }
    }

    #[test]
    fn notify_only_and_names_the_attribute() {
        let f = &Topo::endpoint_only()
            .vpc_dns(true, false)
            .findings(RuleId::VpcDnsDisabled)[0];
        assert!(f.remediation.is_empty());
        assert!(
            f.message.contains("enableDnsHostnames off"),
            "{}",
            f.message
        );
    }
}
