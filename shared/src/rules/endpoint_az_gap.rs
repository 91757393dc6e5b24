//! The `endpoint-az-gap` rule.
//!
//! ## What it checks
//! An interface endpoint that captures a service subnet's traffic has no subnet in that subnet's
//! availability zone.
//!
//! ## Why it matters
//! The tasks still reach it (endpoints work from any AZ), but every request crosses AZs (billed)
//! and an outage of the endpoint's AZ cuts the tasks off.
//!
//! ## Example
//! `vpce-logs` only in `subnet-a` (us-east-1a), a service in `subnet-b` (us-east-1b) → fires for
//! (`vpce-logs`, `us-east-1b`) with `add-endpoint-subnet subnet-b`.
//!
//! ## Remediation
//! `add-endpoint-subnet` with a service subnet of the missing AZ (opt-in: billed hourly per AZ).

use super::Rule;
use crate::action::Action;
use crate::evaluation::{Evaluation, Findings};
use crate::paths::Via;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::EndpointAzGap,
    summary: "an interface endpoint that captures a service subnet's traffic has no subnet in that AZ",
    explanation: super::explanation!("endpoint_az_gap"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in &eval.paths {
        let Via::InterfaceEndpoint(endpoint) = p.path.via else {
            continue;
        };
        let endpoint_azs: Vec<&str> = endpoint
            .subnets
            .iter()
            .filter_map(|s| eval.topology.subnet(s))
            .map(|s| s.az.as_str())
            .collect();
        if endpoint_azs.contains(&p.subnet.az.as_str()) {
            continue;
        }
        // The lowest service subnet id in the AZ, so every finding of the AZ plans the same subnet.
        let subnet = eval
            .paths_in(&p.subnet.vpc)
            .filter(|q| matches!(q.path.via, Via::InterfaceEndpoint(e) if e.id == endpoint.id))
            .map(|q| q.subnet)
            .filter(|s| s.az == p.subnet.az)
            .map(|s| s.id.as_str())
            .min()
            .unwrap_or(&p.subnet.id);
        let mut f = eval.finding(RULE.id, &p.subnet.vpc);
        f.endpoint = Some(endpoint.id.clone());
        f.availability_zone = Some(p.subnet.az.clone());
        f.subnet = Some(p.subnet.id.clone());
        f.dependency = Some(p.dependency.clone());
        f.message = format!(
            "interface endpoint {} ({}) has no subnet in {} (it is in {}), so tasks in {} cross AZs to reach it (billed, and cut off if that AZ fails): add a subnet in {}",
            endpoint.id,
            endpoint.service,
            p.subnet.az,
            if endpoint_azs.is_empty() {
                "no known AZ".to_string()
            } else {
                endpoint_azs.join(", ")
            },
            p.subnet.id,
            p.subnet.az
        );
        f.remediation = vec![Action::AddEndpointSubnet {
            endpoint: endpoint.id.clone(),
            subnet: subnet.to_string(),
        }];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Topo;

    #[test]
    fn fires_per_endpoint_and_missing_az() {
        let only_a =
            |t: Topo| t.endpoint_mut("vpce-logs", |e| e.subnet_ids = vec!["subnet-a".into()]);
        let cases: Vec<(&str, Topo, Vec<&str>)> = vec![
            (
                "endpoint in the task's AZ",
                only_a(Topo::endpoint_only()),
                vec![],
            ),
            (
                "task in another AZ",
                only_a(Topo::endpoint_only()).add_service("svc-b", &["subnet-b"]),
                vec!["vpce-logs|us-east-1b"],
            ),
            (
                "two subnets of one missing AZ: one finding",
                only_a(Topo::endpoint_only())
                    .add_service("svc-b", &["subnet-b"])
                    .add_service("svc-c", &["subnet-c", "subnet-b"]),
                vec!["vpce-logs|us-east-1b", "vpce-logs|us-east-1c"],
            ),
            (
                "private DNS off: no capture, no finding",
                only_a(Topo::endpoint_only())
                    .add_service("svc-b", &["subnet-b"])
                    .endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false)),
                vec![],
            ),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(topo.subjects(RuleId::EndpointAzGap), expected, "{case}");
        }
    }

    #[test]
    fn plan_adds_a_service_subnet_of_the_missing_az() {
        let t = Topo::endpoint_only()
            .endpoint_mut("vpce-logs", |e| e.subnet_ids = vec!["subnet-a".into()])
            .add_service("svc-b", &["subnet-b"]);
        let f = &t.findings(RuleId::EndpointAzGap)[0];
        assert_eq!(
            f.remediation,
            vec![Action::AddEndpointSubnet {
                endpoint: "vpce-logs".into(),
                subnet: "subnet-b".into()
            }]
        );
        assert!(
            t.subjects(RuleId::UnreachableDependency).is_empty(),
            "an AZ gap is not an outage"
        );
    }
}
