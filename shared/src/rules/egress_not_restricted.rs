//! The `egress-not-restricted` rule.
//!
//! ## What it checks
//! In a VPC tagged `reachguard:egress=restricted`, a service subnet's route table has an active
//! default route to an internet gateway, or to a public NAT gateway without an attached
//! destination-filtering appliance (`network-firewall-proxy`, `attached`).
//!
//! ## Why it matters
//! A NAT gateway cannot limit destinations: an attacker in a task can send data anywhere.
//! Endpoints, or a filtering proxy, keep egress under control.
//!
//! ## Example
//! Restricted `vpc-1` with `rtb-private` → `nat-a` (no appliance) → fires for `rtb-private`.
//!
//! ## Remediation
//! Notify only: replace internet egress with endpoints, or attach a filtering proxy. Routes are
//! never changed automatically.

use super::Rule;
use super::nat_traffic::figures_clause;
use crate::evaluation::{Evaluation, Findings};
use crate::model::RouteTarget;
use crate::rule_id::RuleId;
use crate::tags;

pub(super) const RULE: Rule = Rule {
    id: RuleId::EgressNotRestricted,
    summary: "a restricted VPC routes a service subnet to the internet without destination control",
    explanation: super::explanation!("egress_not_restricted"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let topology = eval.topology;
    for subnet in eval.service_subnets().values().copied() {
        let restricted = topology
            .vpc(&subnet.vpc)
            .and_then(|v| v.tags.get(tags::EGRESS))
            .is_some_and(|v| v.eq_ignore_ascii_case("restricted"));
        let Some(table) = topology.route_table_of(subnet).filter(|_| restricted) else {
            continue;
        };
        let Some(route) = table.default_route().filter(|r| !r.blackhole) else {
            continue;
        };
        let (why, nat) = match &route.target {
            RouteTarget::InternetGateway(igw) => (format!("an internet gateway ({igw})"), None),
            RouteTarget::NatGateway(id) => match topology.nat_gateway(id) {
                Some(nat) if nat.public && !nat.filtered => (
                    format!(
                        "public NAT gateway {id}, which has no destination-filtering appliance attached"
                    ),
                    Some(id.clone()),
                ),
                _ => continue,
            },
            _ => continue,
        };
        let mut f = eval.finding(RULE.id, &subnet.vpc);
        f.route_table = Some(table.id.clone());
        f.nat_gateway = nat.clone();
        f.subnet = Some(subnet.id.clone());
        f.destination = Some(route.destination.clone());
        let (traffic, measured) = match &nat {
            Some(nat) => figures_clause(eval, nat, "internet"),
            None => (None, String::new()),
        };
        f.nat_traffic = traffic;
        f.message = format!(
            "{} is tagged {}=restricted, but route table {} (used by {}) sends 0.0.0.0/0 to {why}: tasks can send data anywhere; use VPC endpoints, or attach a network-firewall-proxy to the NAT gateway{measured}",
            subnet.vpc,
            tags::EGRESS,
            table.id,
            subnet.id
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::AttachedAppliance;
    use crate::testing::Topo;

    fn restricted(t: Topo) -> Topo {
        t.vpc_tag("reachguard:egress", "restricted")
    }

    fn appliance(state: &str) -> AttachedAppliance {
        AttachedAppliance {
            appliance_type: Some("network-firewall-proxy".into()),
            attachment_state: Some(state.into()),
        }
    }

    #[test]
    fn nat_figures_only_for_nat_routes() {
        use crate::testing::measured_nat;
        let through_nat = &restricted(Topo::nat_only().nat_metrics(measured_nat("nat-a", |_| {})))
            .findings(RuleId::EgressNotRestricted)[0];
        assert!(
            through_nat.message.contains("processed 20.0 GB"),
            "{}",
            through_nat.message
        );
        assert!(through_nat.nat_traffic.is_some());
        let through_igw = &restricted(
            Topo::base()
                .default_route("rtb-private", "igw-1")
                .nat("nat-a", "subnet-pub-a")
                .nat_metrics(measured_nat("nat-a", |_| {})),
        )
        .findings(RuleId::EgressNotRestricted)[0];
        assert_eq!(through_igw.nat_traffic, None);
    }

    #[test]
    fn unrestricted_default_routes_in_restricted_vpcs() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("untagged VPC", Topo::nat_only(), vec![]),
            (
                "NAT without appliance",
                restricted(Topo::nat_only()),
                vec!["rtb-private"],
            ),
            (
                "NAT with an attached proxy",
                restricted(Topo::nat_only().nat_mut("nat-a", |n| {
                    n.attached_appliances = vec![appliance("attached")]
                })),
                vec![],
            ),
            (
                "proxy still attaching",
                restricted(Topo::nat_only().nat_mut("nat-a", |n| {
                    n.attached_appliances = vec![appliance("attaching")]
                })),
                vec!["rtb-private"],
            ),
            (
                "private NAT",
                restricted(
                    Topo::nat_only()
                        .nat_mut("nat-a", |n| n.connectivity_type = Some("private".into())),
                ),
                vec![],
            ),
            (
                "internet gateway",
                restricted(Topo::base().default_route("rtb-private", "igw-1")),
                vec!["rtb-private"],
            ),
            ("endpoints only", restricted(Topo::endpoint_only()), vec![]),
            (
                "blackholed route is not active",
                restricted(Topo::nat_only().route_table("rtb-private", |t| {
                    t.routes.last_mut().unwrap().state = Some("blackhole".into())
                })),
                vec![],
            ),
            (
                "transit gateway (inspection VPC)",
                restricted(Topo::base().default_route("rtb-private", "tgw-1")),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(
                topo.subjects(RuleId::EgressNotRestricted),
                expected,
                "{case}"
            );
        }
    }
}
