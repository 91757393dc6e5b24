//! The `subnet-not-ready` rule.
//!
//! ## What it checks
//! A subnet tagged `reachguard:workload=ecs` that no active service uses has no path to a
//! dependency that the active services of its VPC need (all of them, exempted ones included). It is
//! judged as a task would be there with no public IP and no service security group (CIDR rules
//! only).
//!
//! ## Why it matters
//! The day a service scales or moves into the spare subnet, its tasks fail to start.
//!
//! ## Example
//! Spare `subnet-c` on a route table without NAT or endpoints while `svc` needs `ecr.dkr` → fires
//! for (`subnet-c`, `ecr.dkr`).
//!
//! ## Remediation
//! Notify only: give the subnet the routes or endpoints its VPC's services use.

use std::collections::BTreeMap;

use super::Rule;
use crate::deps::Dependencies;
use crate::evaluation::{Evaluation, Findings};
use crate::paths::{self, Origin};
use crate::rule_id::RuleId;
use crate::tags;

pub(super) const RULE: Rule = Rule {
    id: RuleId::SubnetNotReady,
    summary: "a spare subnet tagged reachguard:workload=ecs cannot reach what its VPC's services need",
    explanation: super::explanation!("subnet_not_ready"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    let topology = eval.topology;
    let mut needs: BTreeMap<&str, Dependencies> = BTreeMap::new();
    for context in &eval.services {
        needs.entry(context.vpc).or_default().extend(&context.deps);
    }
    let used = eval.service_subnets();
    let spare = topology.subnets.iter().filter(|s| {
        !used.contains_key(s.id.as_str())
            && s.tags
                .get(tags::WORKLOAD)
                .is_some_and(|w| w.eq_ignore_ascii_case("ecs"))
    });
    for subnet in spare {
        let Some(deps) = needs.get(subnet.vpc.as_str()) else {
            continue;
        };
        let origin = Origin {
            subnet,
            public_ip: false,
            security_groups: &[],
        };
        for dependency in deps.names() {
            let path = paths::evaluate(topology, origin, dependency, deps.ecr_layers);
            if path.works() {
                continue;
            }
            let report = path.report(topology, origin, dependency);
            let mut f = eval.finding(RULE.id, &subnet.vpc);
            f.subnet = Some(subnet.id.clone());
            f.dependency = Some(dependency.to_string());
            f.route_table = path.route_table.map(|t| t.id.clone());
            f.availability_zone = Some(subnet.az.clone());
            f.message = format!(
                "spare subnet {} ({}={}) cannot reach {}, which services of {} need; path tried: {}; broken: {}; fix it before tasks land there",
                subnet.id,
                tags::WORKLOAD,
                "ecs",
                dependency,
                subnet.vpc,
                report.via,
                report.broken_at.as_deref().unwrap_or("")
            );
            f.path = Some(report);
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    fn spare(t: Topo) -> Topo {
        t.subnet_tag("subnet-c", "reachguard:workload", "ecs")
    }

    #[test]
    fn spare_subnets_must_reach_what_the_vpc_needs() {
        let separate_table = |t: Topo| {
            t.route_table("rtb-private", |r| {
                r.associations
                    .retain(|a| a.subnet_id.as_deref() != Some("subnet-c"))
            })
        };
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            (
                "spare subnet on the working route table",
                spare(Topo::nat_only()),
                vec![],
            ),
            (
                "spare subnet on the main table (no route)",
                spare(separate_table(Topo::nat_only())),
                vec![
                    "subnet-c|ecr.api",
                    "subnet-c|ecr.dkr",
                    "subnet-c|logs",
                    "subnet-c|s3",
                ],
            ),
            (
                "untagged subnet is not judged",
                separate_table(Topo::nat_only()),
                vec![],
            ),
            (
                "a used subnet is the services' business",
                spare(separate_table(Topo::nat_only())).add_service("svc-c", &["subnet-c"]),
                vec![],
            ),
            (
                "inactive service does not use it",
                spare(separate_table(Topo::nat_only()))
                    .add_service("svc-c", &["subnet-c"])
                    .service_mut("svc-c", |s| s.status = Some("DRAINING".into())),
                vec![
                    "subnet-c|ecr.api",
                    "subnet-c|ecr.dkr",
                    "subnet-c|logs",
                    "subnet-c|s3",
                ],
            ),
            (
                "exempted services' needs count",
                spare(separate_table(Topo::nat_only()).needs("svc", "sqs"))
                    .service_mut("svc", |s| {
                        s.tags.push(crate::snapshot::EcsTag {
                            key: "reachguard:exempt".into(),
                            value: "all".into(),
                        })
                    })
                    .default_route("rtb-main", "nat-a")
                    .with(|d| d.nat_gateways[0].state = Some("available".into())),
                vec![],
            ),
            (
                "no services in the VPC: nothing needed",
                spare(separate_table(Topo::nat_only())).with(|d| d.services.clear()),
                vec![],
            ),
            (
                "endpoints by CIDR serve the spare subnet",
                spare(Topo::endpoint_only()),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::SubnetNotReady), expected, "{case}");
        }
    }
}
