//! The `nat-single-az` rule.
//!
//! ## What it checks
//! An available zonal NAT gateway gives service subnets in an AZ other than its own their working
//! default route.
//!
//! ## Why it matters
//! An outage of the NAT gateway's AZ cuts those subnets off, and cross-AZ data is billed. One NAT
//! gateway per AZ (or a regional NAT gateway) avoids both.
//!
//! ## Example
//! `nat-a` (us-east-1a) is `subnet-b`'s (us-east-1b) default route → fires; a regional NAT gateway
//! never fires.
//!
//! ## Remediation
//! Notify only: add a NAT gateway in each AZ and route each AZ's subnets to their own. NAT gateways
//! and routes are never changed automatically.

use std::collections::{BTreeMap, BTreeSet};

use super::Rule;
use super::nat_traffic::figures_clause;
use crate::evaluation::{Evaluation, Findings};
use crate::model::{NatGateway, RouteTarget};
use crate::paths::nat_break;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::NatSingleAz,
    summary: "a zonal NAT gateway is the working default route of service subnets in other AZs",
    explanation: super::explanation!("nat_single_az"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let topology = eval.topology;
    // NAT gateway → (its AZ, the service subnets of other AZs it serves).
    type Served<'t> = (&'t NatGateway, &'t str, BTreeSet<(&'t str, &'t str)>);
    let mut served: BTreeMap<&str, Served<'_>> = BTreeMap::new();
    for subnet in eval.service_subnets().values().copied() {
        let route = topology
            .route_table_of(subnet)
            .and_then(|t| t.default_route());
        let Some(RouteTarget::NatGateway(nat_id)) =
            route.filter(|r| !r.blackhole).map(|r| &r.target)
        else {
            continue;
        };
        let Some(nat) = topology.nat_gateway(nat_id) else {
            continue;
        };
        let nat_az = nat
            .subnet
            .as_deref()
            .and_then(|s| topology.subnet(s))
            .map(|s| s.az.as_str());
        let Some(nat_az) = nat_az else {
            continue;
        };
        if nat.regional || nat_break(topology, nat).is_some() || nat_az == subnet.az {
            continue;
        }
        served
            .entry(nat_id)
            .or_insert_with(|| (nat, nat_az, BTreeSet::new()))
            .2
            .insert((subnet.az.as_str(), subnet.id.as_str()));
    }
    for (nat_id, (nat, nat_az, subnets)) in served {
        let others: Vec<String> = subnets
            .iter()
            .map(|(az, id)| format!("{id} ({az})"))
            .collect();
        let mut f = eval.finding(RULE.id, &nat.vpc);
        f.nat_gateway = Some(nat_id.to_string());
        f.availability_zone = Some(nat_az.to_string());
        let (traffic, measured) = figures_clause(eval, nat_id, "cross-AZ");
        f.nat_traffic = traffic;
        f.message = format!(
            "zonal NAT gateway {nat_id} in {nat_az} is the default route of service subnets in other AZs: {}; if {nat_az} fails they lose their path, and cross-AZ traffic is billed: add a NAT gateway per AZ or use a regional NAT gateway{measured}",
            others.join(", "),
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    #[test]
    fn zonal_nat_serving_other_azs() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("same AZ only", Topo::nat_only(), vec![]),
            (
                "service in another AZ",
                Topo::nat_only().add_service("svc-b", &["subnet-b"]),
                vec!["nat-a"],
            ),
            (
                "regional NAT never fires",
                Topo::nat_only()
                    .add_service("svc-b", &["subnet-b"])
                    .nat_mut("nat-a", |n| n.availability_mode = Some("regional".into())),
                vec![],
            ),
            (
                "broken NAT is not a working route",
                Topo::nat_only()
                    .add_service("svc-b", &["subnet-b"])
                    .nat_mut("nat-a", |n| n.state = Some("pending".into())),
                vec![],
            ),
            ("no service in the other AZ", Topo::nat_only(), vec![]),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::NatSingleAz), expected, "{case}");
        }
    }

    #[test]
    fn carries_the_nat_total_when_measured() {
        let f = &Topo::nat_only()
            .add_service("svc-b", &["subnet-b"])
            .nat_metrics(crate::testing::measured_nat("nat-a", |_| {}))
            .findings(RuleId::NatSingleAz)[0];
        assert!(
            f.message
                .contains("NAT gateway nat-a processed 20.0 GB in the last 7 days"),
            "{}",
            f.message
        );
        assert_eq!(f.nat_traffic.as_ref().map(|t| t.processed_gb), Some(20.0));
    }

    #[test]
    fn names_the_affected_subnets_and_plans_nothing() {
        let f = &Topo::nat_only()
            .add_service("svc-b", &["subnet-b", "subnet-c"])
            .findings(RuleId::NatSingleAz)[0];
        assert!(
            f.message
                .contains("subnet-b (us-east-1b), subnet-c (us-east-1c)"),
            "{}",
            f.message
        );
        assert_eq!(f.availability_zone.as_deref(), Some("us-east-1a"));
        assert!(f.remediation.is_empty());
    }
}
