//! The `nat-bandwidth-pressure` rule (measured: it reads `NatGatewayMetrics`; README "NAT gateway metrics").
//!
//! ## What it checks
//! The busiest minute of a NAT gateway that is the working default route of service subnets reached
//! `NatThresholds::capacity_share` (default 80 %) of what AWS documents a NAT gateway scales to:
//! 100 Gbps (`NatThresholds::max_bits_per_second`) or ten million packets per second
//! (`NatThresholds::max_packets_per_second`). Throughput is the bytes (packets) the gateway
//! received from both sides in that minute, per second.
//!
//! ## Why it matters
//! One NAT gateway is a bandwidth bottleneck (AWS guidance: "divide your workload across multiple
//! subnets and give each subnet its own NAT gateway"); near its ceiling, the services behind it
//! slow down and drop.
//!
//! ## Example
//! `nat-a` peaked at 85 Gbps for a minute → fires; 79 Gbps and 7.9 M packets/s → no finding.
//!
//! ## Remediation
//! Notify only: divide the workload across multiple subnets, each with its own NAT gateway, and
//! move AWS-service traffic to VPC endpoints; the finding names the services and subnets behind
//! it.

use super::Rule;
use super::nat_traffic::{figures, measured, percent};
use crate::evaluation::{Evaluation, Findings};
use crate::nat_metrics::NatGatewayTraffic;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NatBandwidthPressure,
    summary: "a NAT gateway on service subnets' default route peaked at 80% of the 100 Gbps or 10 M packets/s it scales to",
    explanation: super::explanation!("nat_bandwidth_pressure"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let limits = eval.settings.nat;
    let shares = |t: &NatGatewayTraffic| {
        (
            t.peak_bits_per_second() / limits.max_bits_per_second,
            t.peak_packets_per_second / limits.max_packets_per_second,
        )
    };
    let fires = |t: &NatGatewayTraffic| {
        let (bandwidth, packets) = shares(t);
        bandwidth.max(packets) >= limits.capacity_share
    };
    for (behind, traffic, days) in measured(eval, fires) {
        let (bandwidth, packets) = shares(traffic);
        let nat = &behind.nat.id;
        let mut f = eval.finding(RULE.id, &behind.nat.vpc);
        f.nat_gateway = Some(nat.clone());
        f.message = format!(
            "NAT gateway {nat} peaked at {:.1} Gbps ({} of the {:.0} Gbps it scales to) and {:.2} M packets/s ({} of {:.0} M) in its busiest minute of the last {days} days; behind it: {}; divide the workload across multiple subnets and give each subnet its own NAT gateway",
            traffic.peak_bits_per_second() / 1e9,
            percent(bandwidth),
            limits.max_bits_per_second / 1e9,
            traffic.peak_packets_per_second / 1e6,
            percent(packets),
            limits.max_packets_per_second / 1e6,
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

    /// `nat_only()` with `nat-a` peaking at `gbps` and `mpps`.
    fn peaking(gbps: f64, mpps: f64) -> Topo {
        Topo::nat_only().nat_metrics(measured_nat("nat-a", |t| {
            t.peak_bytes_per_second = gbps * 1e9 / 8.0;
            t.peak_packets_per_second = mpps * 1e6;
        }))
    }

    #[test]
    fn fires_near_the_documented_maximum() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("85 Gbps", peaking(85.0, 1.0), vec!["nat-a"]),
            ("exactly 80 Gbps", peaking(80.0, 1.0), vec!["nat-a"]),
            ("8.5 M packets/s", peaking(10.0, 8.5), vec!["nat-a"]),
            ("79 Gbps and 7.9 M packets/s", peaking(79.0, 7.9), vec![]),
            ("quiet", peaking(0.5, 0.1), vec![]),
            (
                "no service behind the NAT",
                peaking(95.0, 9.5).with(|d| d.services.clear()),
                vec![],
            ),
            (
                "NAT on no service's path",
                Topo::endpoint_only()
                    .nat("nat-a", "subnet-pub-a")
                    .nat_metrics(measured_nat("nat-a", |t| t.peak_bytes_per_second = 12e9)),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::NatBandwidthPressure),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn names_the_figures_and_what_is_behind() {
        let f = &peaking(85.0, 1.0)
            .add_service("svc-b", &["subnet-b"])
            .findings(RuleId::NatBandwidthPressure)[0];
        assert!(
            f.message.contains("peaked at 85.0 Gbps (85% of the 100 Gbps it scales to) and 1.00 M packets/s (10% of 10 M)"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("services svc, svc-b in subnets subnet-a, subnet-b"),
            "{}",
            f.message
        );
        assert!(f.message.contains("give each subnet its own NAT gateway"));
    }
}
