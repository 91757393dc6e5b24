//! The `nat-port-exhaustion` rule (measured: it reads `NatGatewayMetrics`; README "NAT gateway metrics").
//!
//! ## What it checks
//! A NAT gateway that is the working default route of service subnets reported
//! `ErrorPortAllocation` above `NatThresholds::port_allocation_errors` (default 0) in the metrics
//! window.
//!
//! ## Why it matters
//! AWS documents 55,000 simultaneous connections to each unique destination per NAT gateway
//! address; past that the gateway cannot allocate a source port and new connections fail. Each
//! secondary address (up to 8 addresses per NAT gateway) adds 55,000; more NAT gateways (the AWS
//! guidance: divide the workload across subnets, each with its own NAT gateway) or VPC endpoints
//! for AWS-service traffic take connections off it.
//!
//! ## Example
//! `nat-a` with `ErrorPortAllocation` 12 in 7 days, `svc` in `subnet-a` behind it pulling from ECR
//! through it → fires, naming `ecr.api, ecr.dkr, logs, s3` as still going through it; 0 errors, or
//! a NAT no service subnet routes to → no finding.
//!
//! ## Remediation
//! Notify only (reachguard never changes NAT gateways): spread the service subnets over more NAT
//! gateways, add secondary addresses to this one, or move AWS-service traffic to VPC endpoints —
//! the finding names the dependencies that still go through it.

use super::Rule;
use super::nat_traffic::{count, figures, measured};
use crate::evaluation::{Evaluation, Findings};
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NatPortExhaustion,
    summary: "a NAT gateway on service subnets' default route could not allocate source ports (ErrorPortAllocation > 0 in the metrics window)",
    explanation: super::explanation!("nat_port_exhaustion"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let threshold = eval.settings.nat.port_allocation_errors;
    for (behind, traffic, days) in measured(eval, |t| t.error_port_allocation > threshold) {
        let nat = &behind.nat.id;
        let endpoints = match behind.aws_dependencies() {
            Some(deps) => format!(
                ", or move AWS-service traffic to VPC endpoints (still through {nat}: {deps})"
            ),
            None => String::new(),
        };
        let mut f = eval.finding(RULE.id, &behind.nat.vpc);
        f.nat_gateway = Some(nat.clone());
        f.message = format!(
            "NAT gateway {nat} could not allocate a source port {} times in the last {days} days (ErrorPortAllocation): it reached the 55,000 simultaneous connections to one destination that each of its addresses allows, and those connections failed; behind it: {}; spread these subnets over more NAT gateways, add secondary addresses (up to 8 per NAT gateway){endpoints}",
            count(traffic.error_port_allocation),
            behind.who(),
        );
        f.nat_traffic = figures(eval, nat);
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Topo, measured_nat};

    #[test]
    fn fires_on_port_allocation_errors_behind_service_subnets() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            (
                "errors on the service NAT",
                Topo::nat_only()
                    .nat_metrics(measured_nat("nat-a", |t| t.error_port_allocation = 12.0)),
                vec!["nat-a"],
            ),
            (
                "no errors",
                Topo::nat_only().nat_metrics(measured_nat("nat-a", |_| {})),
                vec![],
            ),
            ("no metrics at all", Topo::nat_only(), vec![]),
            (
                "metrics of another NAT only",
                Topo::nat_only()
                    .nat_metrics(measured_nat("nat-z", |t| t.error_port_allocation = 12.0)),
                vec![],
            ),
            (
                "NAT on no service's path",
                Topo::endpoint_only()
                    .nat("nat-a", "subnet-pub-a")
                    .nat_metrics(measured_nat("nat-a", |t| t.error_port_allocation = 12.0)),
                vec![],
            ),
            (
                "NAT with metrics but no service behind it",
                Topo::nat_only()
                    .with(|d| d.services.clear())
                    .nat_metrics(measured_nat("nat-a", |t| t.error_port_allocation = 12.0)),
                vec![],
            ),
            (
                "broken NAT is not a working route",
                Topo::nat_only()
                    .nat_mut("nat-a", |n| n.state = Some("failed".into()))
                    .nat_metrics(measured_nat("nat-a", |t| t.error_port_allocation = 12.0)),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::NatPortExhaustion), expected, "{case}");
        }
    }

    #[test]
    fn fix_names_subnets_services_and_dependencies_through_the_nat() {
        let f = &Topo::nat_only()
            .gateway_endpoint("vpce-s3", "s3", &["rtb-private"])
            .nat_metrics(measured_nat("nat-a", |t| t.error_port_allocation = 12.0))
            .findings(RuleId::NatPortExhaustion)[0];
        assert!(
            f.message.contains("12 times in the last 7 days"),
            "{}",
            f.message
        );
        let many = &Topo::nat_only()
            .nat_metrics(measured_nat("nat-a", |t| {
                t.error_port_allocation = 1_234_567.0
            }))
            .findings(RuleId::NatPortExhaustion)[0];
        assert!(many.message.contains("1,234,567 times"), "{}", many.message);
        assert!(
            f.message.contains("services svc in subnets subnet-a"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("still through nat-a: ecr.api, ecr.dkr, logs)"),
            "s3 goes through its gateway endpoint: {}",
            f.message
        );
        assert!(f.message.contains("secondary addresses"), "{}", f.message);
        assert_eq!(f.nat_traffic.as_ref().map(|t| t.window_days), Some(7));
        assert!(f.remediation.is_empty(), "NAT gateways are never changed");
    }
}
