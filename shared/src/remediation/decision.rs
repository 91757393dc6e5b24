//! What to do about findings: the mode (`notify` / `dry-run` / `remediate`: the deployment's, or
//! a VPC's `reachguard:mode` tag, never above the deployment's ceiling), the allow-list, the plan (each distinct
//! action once, with the findings it fixes), the decision per action (mode, allow-list, safety
//! check) and what an action's outcome makes of a finding's transition. Pure: the EC2 executor
//! lives in the AWS adapters.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::safety::{check_safety, simulate};
use crate::action::{Action, ActionName};
use crate::finding::Finding;
use crate::model::Topology;
use crate::names::public_names;
use crate::notification::{RemediationNote, Status, Transition};
use crate::snapshot::Snapshot;
use crate::tags;

/// What reachguard does about findings (`REACHGUARD_MODE`, or a VPC's `reachguard:mode` tag).
/// Ordered by how much it may change: `notify` < `dry-run` < `remediate`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Mode {
    /// Report only.
    #[default]
    Notify,
    /// Report, with the plan.
    DryRun,
    /// Apply allowed, safe actions, then re-evaluate.
    Remediate,
}

public_names!(Mode, "mode");

/// The deployment's remediation settings: its mode, its ceiling and the actions it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationPolicy {
    /// The mode of VPCs without a `reachguard:mode` tag (capped by the ceiling).
    pub mode: Mode,
    /// The highest mode any VPC may run in (`REACHGUARD_MAX_MODE`; `None`: `mode` itself): the
    /// kill switch. A VPC's tag may choose any mode up to it; `notify` stops every change.
    pub ceiling: Option<Mode>,
    /// Actions that may be applied in `remediate` mode.
    pub allowed: BTreeSet<ActionName>,
}

impl Default for RemediationPolicy {
    /// `notify` (and a `notify` ceiling), with the default allow-list (the free actions).
    fn default() -> Self {
        RemediationPolicy {
            mode: Mode::Notify,
            ceiling: None,
            allowed: ActionName::DEFAULT_ALLOWED.into_iter().collect(),
        }
    }
}

impl RemediationPolicy {
    /// The highest mode any VPC may run in: the ceiling, or the mode when none is set.
    pub fn ceiling(&self) -> Mode {
        self.ceiling.unwrap_or(self.mode)
    }

    /// The mode for `vpc`: its `reachguard:mode` tag when that names a mode, else the
    /// deployment's; never above the ceiling.
    pub fn mode_for(&self, snapshot: &Snapshot, vpc: &str) -> Mode {
        snapshot
            .vpcs
            .iter()
            .find(|v| v.vpc_id == vpc)
            .and_then(|v| v.tags.iter().find(|t| t.key == tags::MODE))
            .and_then(|t| t.value.parse().ok())
            .unwrap_or(self.mode)
            .min(self.ceiling())
    }
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
pub enum Outcome {
    /// Changed the account.
    Applied(String),
    /// The account already was as the action wants it: nothing to do.
    AlreadyDone(String),
    /// Dry-run: would be applied.
    Planned(String),
    /// Not applied: mode, allow-list or safety (the reason).
    Skipped(String),
    /// The AWS call failed for good (the error): reported once as `remediation-failed`.
    Failed(String),
    /// The AWS call failed transiently (throttling, 5xx, timeout; the error): the finding stays
    /// due for remediation and a later evaluation (the retry) tries again.
    Interrupted(String),
}

impl Outcome {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Outcome::Applied(d) => ("applied", d),
            Outcome::AlreadyDone(d) => ("already-done", d),
            Outcome::Planned(d) => ("planned", d),
            Outcome::Skipped(d) => ("skipped", d),
            Outcome::Failed(d) => ("failed", d),
            Outcome::Interrupted(d) => ("retrying", d),
        }
    }
}

/// One action of the plan and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionReport {
    /// The VPC it is for.
    pub vpc: String,
    /// The action.
    pub action: Action,
    /// Keys of the findings that proposed it.
    pub findings: Vec<String>,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl ActionReport {
    /// The `remediation` member of a notification transition.
    pub fn note(&self) -> RemediationNote {
        let (outcome, detail) = self.outcome.parts();
        RemediationNote {
            action: self.action.name().to_string(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

/// One planned action: its VPC, the action, and the keys of the findings proposing it.
pub type PlannedAction = (String, Action, Vec<String>);

/// The distinct actions the findings propose, in finding order, each with the keys of the
/// findings proposing it.
pub fn plan<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Vec<PlannedAction> {
    let mut order: Vec<(String, Action)> = Vec::new();
    let mut by_action: BTreeMap<Action, Vec<String>> = BTreeMap::new();
    for finding in findings {
        for action in &finding.remediation {
            let keys = by_action.entry(action.clone()).or_default();
            if keys.is_empty() {
                order.push((finding.vpc.clone(), action.clone()));
            }
            keys.push(finding.key());
        }
    }
    order
        .into_iter()
        .map(|(vpc, action)| {
            let keys = by_action.remove(&action).unwrap_or_default();
            (vpc, action, keys)
        })
        .collect()
}

/// The mode `action` runs in for `vpc`, or why it is skipped: notify mode, not in the
/// allow-list, or unsafe on `model` ([`check_safety`]).
pub fn decide(
    policy: &RemediationPolicy,
    snapshot: &Snapshot,
    model: &Topology,
    vpc: &str,
    action: &Action,
) -> Result<Mode, String> {
    let mode = policy.mode_for(snapshot, vpc);
    if mode == Mode::Notify {
        return Err(format!("mode is notify for {vpc}"));
    }
    if !policy.allowed.contains(&action.name()) {
        return Err(format!("{} is not in the allow-list", action.name()));
    }
    check_safety(model, action)?;
    Ok(mode)
}

/// The model a plan's actions are decided on, as the earlier actions leave the account: each
/// action is decided ([`decide`]) on the model with every earlier action that holds now (applied,
/// found already done, or planned in dry-run) simulated on it.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    model: Topology,
}

impl Rehearsal {
    /// Starts from the collected model.
    pub fn new(model: &Topology) -> Self {
        Rehearsal {
            model: model.clone(),
        }
    }

    /// [`decide`] on the model as the earlier actions left it.
    pub fn decide(
        &self,
        policy: &RemediationPolicy,
        snapshot: &Snapshot,
        vpc: &str,
        action: &Action,
    ) -> Result<Mode, String> {
        decide(policy, snapshot, &self.model, vpc, action)
    }

    /// Records what became of `action`: when the account now is as the action wants it
    /// (applied, already done) or would be (planned), later safety checks see it so.
    pub fn record(&mut self, action: &Action, outcome: &Outcome) {
        if matches!(
            outcome,
            Outcome::Applied(_) | Outcome::AlreadyDone(_) | Outcome::Planned(_)
        ) {
            simulate(&mut self.model, action);
        }
    }
}

/// A finding's transition after remediation: `remediated` when an action for it was applied
/// (or already done) and it is gone from `still_open` (the re-evaluation; `None`: not
/// re-evaluated), `remediation-failed` when its action failed for good, `remediation-skipped`
/// when it was only planned or skipped; otherwise (interrupted: to be retried) unchanged. The
/// action's note is attached.
pub fn outcome_transition(
    mut transition: Transition,
    actions: &[ActionReport],
    still_open: Option<&BTreeSet<String>>,
) -> Transition {
    let key = transition.finding.key();
    let Some(report) = actions.iter().find(|a| a.findings.contains(&key)) else {
        return transition;
    };
    let gone = still_open.is_some_and(|open| !open.contains(&key));
    match &report.outcome {
        Outcome::Applied(_) | Outcome::AlreadyDone(_) if gone => {
            transition.status = Status::Remediated
        }
        Outcome::Applied(_) | Outcome::AlreadyDone(_) | Outcome::Interrupted(_) => {}
        Outcome::Failed(_) => transition.status = Status::RemediationFailed,
        Outcome::Planned(_) | Outcome::Skipped(_) => transition.status = Status::RemediationSkipped,
    }
    transition.remediation = Some(report.note());
    transition
}

/// A `ClientToken` (≤ 64 ASCII characters) derived from the action alone — what it creates,
/// where: every invocation that plans the same change sends the same token, whichever findings
/// it won, so AWS creates it once (FNV-1a over the action's JSON, stable across processes and
/// releases, not `std`'s unspecified hasher).
pub fn client_token(action: &Action) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let action_json = serde_json::to_string(action).unwrap_or_default();
    for byte in action_json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("reachguard-{}-{hash:016x}", action.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Report;
    use crate::finding::Finding;
    use crate::rule_id::RuleId;
    use crate::snapshot::{Tag as DocTag, Vpc};
    use strum::VariantArray;

    fn finding(subnet: &str, actions: Vec<Action>) -> Finding {
        let mut f = Finding::new(
            RuleId::UnreachableDependency,
            Some("1"),
            "us-east-1",
            "vpc-1",
        );
        f.subnet = Some(subnet.into());
        f.remediation = actions;
        f
    }

    fn associate(rt: &str) -> Action {
        Action::AssociateGatewayEndpoint {
            endpoint: "vpce-1".into(),
            route_table: rt.into(),
        }
    }

    #[test]
    fn the_plan_has_each_action_once_with_every_finding_it_fixes() {
        let report = Report {
            findings: vec![
                finding("subnet-a", vec![associate("rtb-1")]),
                finding("subnet-b", vec![associate("rtb-1"), associate("rtb-2")]),
            ],
            ..Report::default()
        };
        let plan = plan(&report.findings);
        let actions: Vec<&Action> = plan.iter().map(|(_, a, _)| a).collect();
        assert_eq!(actions, [&associate("rtb-1"), &associate("rtb-2")]);
        assert_eq!(plan[0].2.len(), 2);
        assert_eq!(plan[1].2.len(), 1);
        assert_eq!(plan[0].0, "vpc-1");
    }

    #[test]
    fn client_tokens_are_stable_and_short() {
        let t = client_token(&associate("rtb-1"));
        assert_eq!(t, client_token(&associate("rtb-1")));
        assert_ne!(t, client_token(&associate("rtb-2")));
        assert!(t.len() <= 64 && t.is_ascii(), "{t}");
        // Pinned: a token must not change between releases, or a retried create would duplicate.
        assert_eq!(t, "reachguard-associate-gateway-endpoint-9efc0fdf102678d7");
    }

    /// `vpce-logs` (private DNS off) sits behind `sg-endpoint`, which admits nothing; `logs`
    /// works through the NAT gateway. Enabling private DNS is unsafe unless 443 is admitted first.
    fn blocked_logs_endpoint() -> (Topology, Action, Action) {
        let topo = crate::testing::Topo::nat_only()
            .interface_endpoint("vpce-logs", "logs", &["subnet-a"])
            .endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false))
            .endpoint_ingress(vec![]);
        let model = Topology::from_snapshot(&topo.doc).expect("model");
        let allow = Action::AllowHttpsFromVpc {
            security_group: "sg-endpoint".into(),
            cidr: "10.0.0.0/16".into(),
        };
        let enable = Action::EnablePrivateDns {
            endpoint: "vpce-logs".into(),
        };
        (model, allow, enable)
    }

    #[test]
    fn a_later_action_is_decided_on_the_model_the_earlier_outcomes_leave() {
        let (model, allow, enable) = blocked_logs_endpoint();
        let snapshot = Snapshot::default();
        let policy = RemediationPolicy {
            mode: Mode::Remediate,
            ceiling: None,
            allowed: ActionName::VARIANTS.iter().copied().collect(),
        };
        let done = |detail: &str| detail.to_owned();
        for (first, enable_is_safe) in [
            (Outcome::Applied(done("sg-endpoint now admits 443")), true),
            (Outcome::AlreadyDone(done("already admits 443")), true),
            (Outcome::Planned(done("would admit 443")), true),
            (Outcome::Skipped(done("not allowed")), false),
            (Outcome::Failed(done("UnauthorizedOperation")), false),
            (Outcome::Interrupted(done("RequestLimitExceeded")), false),
        ] {
            let mut rehearsal = Rehearsal::new(&model);
            assert_eq!(
                rehearsal.decide(&policy, &snapshot, "vpc-1", &allow),
                Ok(Mode::Remediate)
            );
            rehearsal.record(&allow, &first);
            let second = rehearsal.decide(&policy, &snapshot, "vpc-1", &enable);
            assert_eq!(
                second.is_ok(),
                enable_is_safe,
                "after {first:?}: {second:?}"
            );
        }
    }

    #[test]
    fn an_interrupted_action_leaves_the_finding_opened_with_a_retrying_note() {
        let f = finding("subnet-a", vec![associate("rtb-1")]);
        let report = |outcome| ActionReport {
            vpc: "vpc-1".into(),
            action: associate("rtb-1"),
            findings: vec![f.key()],
            outcome,
        };
        let interrupted = outcome_transition(
            Transition::opened(f.clone()),
            &[report(Outcome::Interrupted("RequestLimitExceeded".into()))],
            None,
        );
        assert_eq!(interrupted.status, Status::Opened);
        let note = interrupted.remediation.expect("note");
        assert_eq!(
            (note.outcome.as_str(), note.detail.as_str()),
            ("retrying", "RequestLimitExceeded")
        );
        let failed = outcome_transition(
            Transition::opened(f.clone()),
            &[report(Outcome::Failed("UnauthorizedOperation".into()))],
            None,
        );
        assert_eq!(failed.status, Status::RemediationFailed);
    }

    #[test]
    fn the_vpc_tag_chooses_the_mode_up_to_the_ceiling() {
        let vpc = |id: &str, mode: Option<&str>| Vpc {
            vpc_id: id.into(),
            tags: mode
                .map(|m| DocTag {
                    key: tags::MODE.into(),
                    value: m.into(),
                })
                .into_iter()
                .collect(),
            ..Vpc::default()
        };
        let snapshot = Snapshot {
            vpcs: vec![
                vpc("vpc-a", Some("remediate")),
                vpc("vpc-b", None),
                vpc("vpc-c", Some("bogus")),
            ],
            ..Snapshot::default()
        };
        // (deployment mode, ceiling) → the mode of vpc-a (tagged remediate), vpc-b (untagged),
        // vpc-c (an unknown value, ignored).
        let cases = [
            (
                (Mode::DryRun, Some(Mode::Remediate)),
                [Mode::Remediate, Mode::DryRun, Mode::DryRun],
            ),
            (
                (Mode::DryRun, None),
                [Mode::DryRun, Mode::DryRun, Mode::DryRun],
            ),
            (
                (Mode::Notify, Some(Mode::DryRun)),
                [Mode::DryRun, Mode::Notify, Mode::Notify],
            ),
            // The kill switch: a notify ceiling wins over every tag and a higher mode.
            (
                (Mode::Remediate, Some(Mode::Notify)),
                [Mode::Notify, Mode::Notify, Mode::Notify],
            ),
        ];
        for ((mode, ceiling), expected) in cases {
            let policy = RemediationPolicy {
                mode,
                ceiling,
                ..RemediationPolicy::default()
            };
            let got = ["vpc-a", "vpc-b", "vpc-c"].map(|vpc| policy.mode_for(&snapshot, vpc));
            assert_eq!(got, expected, "mode {mode}, ceiling {ceiling:?}");
        }
        let lowered = Snapshot {
            vpcs: vec![vpc("vpc-a", Some("notify"))],
            ..Snapshot::default()
        };
        let policy = RemediationPolicy {
            mode: Mode::Remediate,
            ..RemediationPolicy::default()
        };
        assert_eq!(
            policy.mode_for(&lowered, "vpc-a"),
            Mode::Notify,
            "a tag lowers it"
        );
    }

    #[test]
    fn modes_parse_by_their_public_names() {
        assert_eq!("dry-run".parse::<Mode>(), Ok(Mode::DryRun));
        assert_eq!("Remediate".parse::<Mode>(), Ok(Mode::Remediate));
        assert!("apply".parse::<Mode>().is_err());
        assert_eq!(RemediationPolicy::default().mode, Mode::Notify);
        assert!(
            !RemediationPolicy::default()
                .allowed
                .contains(&ActionName::CreateInterfaceEndpoint)
        );
    }
}
