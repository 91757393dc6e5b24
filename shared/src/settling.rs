//! Resources caught mid-transition, and the findings that exist only because of them.
//!
//! EventBridge can deliver the event of a change seconds after the call, while `Describe*` still
//! shows the new NAT gateway or interface endpoint `pending`: evaluated as it is, a route to a
//! NAT gateway that will be up in a minute is an outage, and an endpoint whose security group
//! blocks 443 is not yet looked at. A NAT gateway or VPC endpoint whose state is `pending` or
//! `deleting` is **unsettled** (the snapshot's other states are final, or, like
//! `pendingAcceptance`, wait for a person rather than for time; neither resource reports
//! `modifying`).
//!
//! **The rule.** A finding *depends only on* unsettled resources when it is absent (by VPC, rule
//! and subject) from the evaluation of the [`settled`] snapshot, in which every unsettled
//! resource has reached the state it is heading for (`pending` → `available`, `deleting` →
//! `deleted`). Such a finding is held back; every other finding holds whatever the transitions
//! end in and is reported at once (a NAT gateway being deleted is an outage now and after). What
//! only the settled snapshot shows (the new endpoint's blocked security group) is left to a
//! re-evaluation once the resources have settled. Pure: the caller schedules that.

use std::collections::BTreeSet;

use crate::error::SnapshotError;
use crate::evaluate::evaluate_with;
use crate::finding::Finding;
use crate::model::Topology;
use crate::settings::EvaluationSettings;
use crate::snapshot::Snapshot;

/// A NAT gateway or VPC endpoint in a transitional state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsettled {
    /// `nat-…` or `vpce-…`.
    pub id: String,
    /// Its VPC.
    pub vpc: String,
    /// The state as reported (`pending`, `deleting`).
    pub state: String,
}

/// The state an unsettled resource is heading for; `None` for a settled state.
fn heading_for(state: Option<&str>) -> Option<&'static str> {
    match state?.to_ascii_lowercase().as_str() {
        "pending" => Some("available"),
        "deleting" => Some("deleted"),
        _ => None,
    }
}

/// The unsettled NAT gateways and VPC endpoints of `snapshot`, in document order.
pub fn unsettled(snapshot: &Snapshot) -> Vec<Unsettled> {
    let nats = snapshot
        .nat_gateways
        .iter()
        .map(|n| (&n.nat_gateway_id, &n.vpc_id, &n.state));
    let endpoints = snapshot
        .vpc_endpoints
        .iter()
        .map(|e| (&e.vpc_endpoint_id, &e.vpc_id, &e.state));
    nats.chain(endpoints)
        .filter_map(|(id, vpc, state)| {
            heading_for(state.as_deref())?;
            Some(Unsettled {
                id: id.clone(),
                vpc: vpc.clone(),
                state: state.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// `snapshot` with every unsettled resource in the state it is heading for.
pub fn settled(snapshot: &Snapshot) -> Snapshot {
    let mut settled = snapshot.clone();
    let states = settled
        .nat_gateways
        .iter_mut()
        .map(|n| &mut n.state)
        .chain(settled.vpc_endpoints.iter_mut().map(|e| &mut e.state));
    for state in states {
        if let Some(next) = heading_for(state.as_deref()) {
            *state = Some(next.to_owned());
        }
    }
    settled
}

/// An evaluation's findings split by the rule of this module.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// Findings that hold whatever the unsettled resources end in: report them.
    pub report: Vec<Finding>,
    /// Findings that depend only on unsettled resources: hold them back.
    pub held: Vec<Finding>,
}

/// Splits `findings` (the evaluation of `snapshot` with `settings`) into those to report and
/// those that depend only on unsettled resources, by evaluating the [`settled`] snapshot.
pub fn split(
    snapshot: &Snapshot,
    findings: Vec<Finding>,
    settings: EvaluationSettings,
) -> Result<Split, SnapshotError> {
    let topology = Topology::from_snapshot(&settled(snapshot))?;
    let (report, suppressed) = evaluate_with(&topology, settings);
    let lasting: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .chain(&suppressed)
        .map(|f| (f.vpc.clone(), f.key()))
        .collect();
    let (report, held) = findings
        .into_iter()
        .partition(|f| lasting.contains(&(f.vpc.clone(), f.key())));
    Ok(Split { report, held })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule_id::RuleId;
    use crate::testing::Topo;

    /// The rules of what `split` reports and holds back for `topo`.
    fn split_of(topo: &Topo) -> (Vec<RuleId>, Vec<RuleId>) {
        let topology = Topology::from_snapshot(&topo.doc).expect("valid");
        let settings = EvaluationSettings::default();
        let (report, _) = evaluate_with(&topology, settings);
        let split = split(&topo.doc, report.findings, settings).expect("valid");
        let rules = |findings: &[Finding]| {
            let mut rules: Vec<RuleId> = findings.iter().map(|f| f.rule).collect();
            rules.dedup();
            rules
        };
        (rules(&split.report), rules(&split.held))
    }

    fn nat_state(state: &str) -> Topo {
        let state = state.to_owned();
        Topo::nat_only().nat_mut("nat-a", |n| n.state = Some(state))
    }

    /// An endpoint-only VPC whose `ecr.dkr` endpoint is `state` and has a security group of its
    /// own that admits port 80 only.
    fn blocked_endpoint(state: &str) -> Topo {
        let state = state.to_owned();
        Topo::endpoint_only()
            .endpoint_mut("vpce-ecr-dkr", |e| {
                e.state = Some(state);
                e.groups[0].group_id = "sg-port-80".into();
            })
            .with(|d| {
                let mut group = d.security_groups[1].clone();
                group.group_id = "sg-port-80".into();
                group.ip_permissions[0].from_port = Some(80);
                group.ip_permissions[0].to_port = Some(80);
                d.security_groups.push(group);
            })
    }

    #[test]
    fn only_pending_and_deleting_nat_gateways_and_endpoints_are_unsettled() {
        for (state, unsettled_now) in [
            ("pending", true),
            ("PENDING", true),
            ("deleting", true),
            ("available", false),
            ("deleted", false),
            ("failed", false),
            ("pendingAcceptance", false),
        ] {
            let nat = unsettled(&nat_state(state).doc);
            assert_eq!(nat.len(), usize::from(unsettled_now), "nat {state}");
            let endpoint = unsettled(&blocked_endpoint(state).doc);
            assert_eq!(endpoint.len(), usize::from(unsettled_now), "vpce {state}");
        }
        assert_eq!(
            unsettled(&nat_state("pending").doc),
            [Unsettled {
                id: "nat-a".into(),
                vpc: "vpc-1".into(),
                state: "pending".into()
            }]
        );
    }

    #[test]
    fn settled_moves_each_transition_to_its_end_and_leaves_the_rest() {
        let doc = nat_state("pending")
            .with(|d| d.vpc_endpoints = blocked_endpoint("deleting").doc.vpc_endpoints)
            .doc;
        let after = settled(&doc);
        assert_eq!(after.nat_gateways[0].state.as_deref(), Some("available"));
        let states: Vec<Option<&str>> = after
            .vpc_endpoints
            .iter()
            .map(|e| e.state.as_deref())
            .collect();
        // vpce-s3, vpce-ecr-api, vpce-ecr-dkr (deleting), vpce-logs.
        assert_eq!(
            states,
            [
                Some("available"),
                Some("available"),
                Some("deleted"),
                Some("available")
            ]
        );
        assert!(unsettled(&after).is_empty());
    }

    #[test]
    fn which_findings_are_held_back() {
        use RuleId::*;
        // (case, topology, reported rules, held-back rules)
        let cases: [(&str, Topo, &[RuleId], &[RuleId]); 6] = [
            (
                "route to a pending NAT gateway: the outage lasts only until it is available",
                nat_state("pending"),
                &[],
                &[UnreachableDependency],
            ),
            (
                "route to a NAT gateway being deleted: an outage now and after, reported",
                nat_state("deleting"),
                &[UnreachableDependency],
                &[],
            ),
            (
                "available NAT gateway: nothing to hold back",
                nat_state("available"),
                &[NatForGatewayService],
                &[],
            ),
            (
                "pending endpoint behind a blocked group: ecr.dkr is unreachable now and after",
                blocked_endpoint("pending"),
                &[UnreachableDependency],
                &[],
            ),
            (
                "pending endpoint, open group, no other path: unreachable only until available",
                Topo::endpoint_only()
                    .endpoint_mut("vpce-ecr-dkr", |e| e.state = Some("pending".into())),
                &[],
                &[UnreachableDependency],
            ),
            (
                "pending endpoint, NAT path meanwhile: nothing now, the blocked group comes later",
                blocked_endpoint("pending")
                    .nat("nat-a", "subnet-pub-a")
                    .default_route("rtb-private", "nat-a"),
                &[],
                &[],
            ),
        ];
        for (case, topo, reported, held) in cases {
            assert_eq!(
                split_of(&topo),
                (reported.to_vec(), held.to_vec()),
                "{case}"
            );
        }
    }
}
