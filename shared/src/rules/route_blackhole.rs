//! The `route-blackhole` rule.
//!
//! ## What it checks
//! A service subnet's route table has a route in state `blackhole`: its target (NAT gateway,
//! endpoint, network interface, peering connection) was deleted.
//!
//! ## Why it matters
//! Traffic for that destination is dropped; for `0.0.0.0/0`, every dependency without an endpoint
//! is cut off.
//!
//! ## Example
//! `rtb-private` sends 0.0.0.0/0 to the deleted `nat-a` (blackhole) → fires for (`rtb-private`,
//! `0.0.0.0/0`).
//!
//! ## Remediation
//! Notify only: replace the route's target with a working one, or delete the route. Routes are
//! never changed automatically.

use super::Rule;
use crate::evaluation::{Evaluation, Findings};
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::RouteBlackhole,
    summary: "a service subnet's route table has a blackhole route",
    explanation: super::explanation!("route_blackhole"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for subnet in eval.service_subnets().values().copied() {
        let Some(table) = eval.topology.route_table_of(subnet) else {
            continue;
        };
        for route in table.routes.iter().filter(|r| r.blackhole) {
            let mut f = eval.finding(RULE.id, &table.vpc);
            f.route_table = Some(table.id.clone());
            f.destination = Some(route.destination.clone());
            f.subnet = Some(subnet.id.clone());
            f.message = format!(
                "route table {} (used by {}) sends {} to {}, which no longer exists (blackhole): traffic there is dropped; replace the route with a working target or delete it",
                table.id,
                subnet.id,
                route.destination,
                route.target.id()
            );
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Topo, route};

    fn blackhole(destination: &str, target: &str) -> crate::snapshot::Route {
        let mut r = route(destination, target);
        r.state = Some("blackhole".into());
        r
    }

    #[test]
    fn blackholes_on_service_route_tables() {
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            ("active routes", Topo::nat_only(), vec![]),
            (
                "default route blackholed",
                Topo::base().route_table("rtb-private", |t| {
                    t.routes.push(blackhole("0.0.0.0/0", "nat-gone"))
                }),
                vec!["rtb-private|0.0.0.0/0"],
            ),
            (
                "other destination, state in capitals",
                Topo::nat_only().route_table("rtb-private", |t| {
                    let mut r = blackhole("192.168.0.0/16", "pcx-1");
                    r.state = Some("BLACKHOLE".into());
                    t.routes.push(r)
                }),
                vec!["rtb-private|192.168.0.0/16"],
            ),
            (
                "prefix-list destination",
                Topo::nat_only().route_table("rtb-private", |t| {
                    t.routes.push(crate::snapshot::Route {
                        destination_prefix_list_id: Some("pl-63a5400a".into()),
                        gateway_id: Some("vpce-gone".into()),
                        state: Some("blackhole".into()),
                        ..Default::default()
                    })
                }),
                vec!["rtb-private|pl-63a5400a"],
            ),
            (
                "route table of no service",
                Topo::nat_only().route_table("rtb-pub", |t| {
                    t.routes.push(blackhole("192.168.0.0/16", "pcx-1"))
                }),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::RouteBlackhole), expected, "{case}");
        }
    }
}
