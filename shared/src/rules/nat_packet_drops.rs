//! The `nat-packet-drops` rule (measured: it reads `NatGatewayMetrics`; README "NAT gateway metrics").
//!
//! ## What it checks
//! A NAT gateway that is the working default route of service subnets dropped more than
//! `NatThresholds::drop_share` (default 0.01 %) of the packets it received in the metrics window
//! (`PacketsDropCount` / (`PacketsInFromSource` + `PacketsInFromDestination`)).
//!
//! ## Why it matters
//! AWS's CloudWatch guidance for NAT gateways: drops above 0.01 % of the traffic point to an issue
//! with the gateway (check the AWS Health Dashboard); sustained drops at high load mean the gateway
//! is a bottleneck for the services behind it.
//!
//! ## Example
//! `nat-a` received 10,000,000 packets and dropped 2,000 (0.02 %) → fires; 999 dropped (0.00999 %)
//! → no finding.
//!
//! ## Remediation
//! Notify only: check the AWS Health Dashboard for the NAT gateway, and spread the service subnets
//! behind it over more NAT gateways (or move AWS-service traffic to VPC endpoints).

use super::Rule;
use super::nat_traffic::{count, figures, measured, percent};
use crate::evaluation::{Evaluation, Findings};
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NatPacketDrops,
    summary: "a NAT gateway on service subnets' default route dropped more than 0.01% of its packets in the metrics window",
    explanation: super::explanation!("nat_packet_drops"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let threshold = eval.settings.nat.drop_share;
    for (behind, traffic, days) in measured(eval, |t| t.drop_share() > threshold) {
        let share = traffic.drop_share();
        let nat = &behind.nat.id;
        let mut f = eval.finding(RULE.id, &behind.nat.vpc);
        f.nat_gateway = Some(nat.clone());
        f.message = format!(
            "NAT gateway {nat} dropped {} of the {} packets it received in the last {days} days ({}, above the {} AWS says to investigate); behind it: {}; check the AWS Health Dashboard for its Availability Zone, and if the drops come with high load, divide the workload across more subnets, each with its own NAT gateway",
            count(traffic.packets_drop_count),
            count(traffic.packets()),
            percent(share),
            percent(threshold),
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

    /// `nat_only()` with `nat-a` receiving 10,000,000 packets and dropping `drops`.
    fn dropping(drops: f64) -> Topo {
        Topo::nat_only().nat_metrics(measured_nat("nat-a", |t| {
            t.packets_in_from_source = 6_000_000.0;
            t.packets_in_from_destination = 4_000_000.0;
            t.packets_drop_count = drops;
        }))
    }

    #[test]
    fn fires_above_the_investigate_share() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("0.02% dropped", dropping(2_000.0), vec!["nat-a"]),
            ("just above 0.01%", dropping(1_001.0), vec!["nat-a"]),
            ("exactly 0.01% is not above it", dropping(1_000.0), vec![]),
            ("just below 0.01%", dropping(999.0), vec![]),
            ("no drops", dropping(0.0), vec![]),
            (
                "drops but no service behind the NAT",
                dropping(2_000.0).with(|d| d.services.clear()),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::NatPacketDrops), expected, "{case}");
        }
    }

    #[test]
    fn the_threshold_is_a_setting() {
        use crate::settings::{EvaluationSettings, NatThresholds};
        let strict = EvaluationSettings {
            nat: NatThresholds {
                drop_share: 0.00005,
                ..NatThresholds::default()
            },
            ..EvaluationSettings::default()
        };
        let topo = dropping(999.0);
        assert!(topo.findings(RuleId::NatPacketDrops).is_empty());
        let strict_findings = topo.findings_with(RuleId::NatPacketDrops, strict);
        assert_eq!(strict_findings.len(), 1);
        assert!(
            strict_findings[0]
                .message
                .contains("dropped 999 of the 10,000,000 packets it received in the last 7 days (0.01%, above the 0.005%"),
            "{}",
            strict_findings[0].message
        );
    }
}
