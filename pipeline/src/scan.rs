//! A live evaluation, the counterpart of `check` on a snapshot file: collect a scope and evaluate
//! it exactly as a snapshot is evaluated ([`scan`]); and a remediation run over it
//! ([`remediate`]: plan, decide, apply through the adapters' executor, re-scan).

use std::collections::BTreeSet;

use reachguard_shared::aws::{Collection, Collector, Remediator, Scope};
use reachguard_shared::evaluate::{Report, evaluate};
use reachguard_shared::model::Topology;
use reachguard_shared::notification::Transition;
use reachguard_shared::remediation::{
    ActionReport, Outcome, RemediationPolicy, outcome_transition, plan,
};

use crate::error::EvaluationError;

/// A collection and its evaluation.
#[derive(Debug, Clone)]
pub struct Scan {
    /// What was collected, and what it cost.
    pub collection: Collection,
    /// The findings.
    pub report: Report,
}

/// Collects `scope` and evaluates it.
pub async fn scan(collector: &Collector, scope: &Scope) -> Result<Scan, EvaluationError> {
    let collection = collector.collect(scope).await?;
    let mut report = evaluate(&Topology::from_snapshot(&collection.snapshot)?);
    report.warnings.extend(collection.warnings.iter().cloned());
    Ok(Scan { collection, report })
}

/// The result of a remediation run.
#[derive(Debug, Clone)]
pub struct Remediation {
    /// The scan the plan came from.
    pub before: Scan,
    /// Every planned action, in plan order, with its outcome.
    pub actions: Vec<ActionReport>,
    /// The re-scan after applying (`None` when nothing was applied).
    pub after: Option<Report>,
}

impl Remediation {
    /// True when some action was applied.
    pub fn applied(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Applied(_)))
    }

    /// True when some action failed.
    pub fn failed(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Failed(_)))
    }

    /// The notification transitions: a finding an action was applied to and that is gone after
    /// is `remediated`; one whose action failed is `remediation-failed`; one whose action was
    /// planned or skipped is `remediation-skipped`; any other finding is `opened`.
    pub fn transitions(&self) -> Vec<Transition> {
        let still_open: BTreeSet<String> = self
            .after
            .as_ref()
            .unwrap_or(&self.before.report)
            .findings
            .iter()
            .map(|f| f.key())
            .collect();
        self.before
            .report
            .findings
            .iter()
            .map(|finding| {
                outcome_transition(
                    Transition::opened(finding.clone()),
                    &self.actions,
                    Some(&still_open),
                )
            })
            .collect()
    }
}

/// Scans `scope`, decides and (where the mode says so) applies every planned action, then
/// re-scans if anything was applied. Fails only when a scan fails; failed actions are in
/// the report.
pub async fn remediate(
    collector: &Collector,
    remediator: &Remediator,
    scope: &Scope,
    policy: &RemediationPolicy,
) -> Result<Remediation, EvaluationError> {
    let before = scan(collector, scope).await?;
    let model = Topology::from_snapshot(&before.collection.snapshot)?;
    let planned = plan(&before.report.findings);
    let actions = remediator
        .execute(policy, &before.collection.snapshot, &model, planned)
        .await;
    let mut remediation = Remediation {
        before,
        actions,
        after: None,
    };
    if remediation.applied() {
        remediation.after = Some(scan(collector, scope).await?.report);
    }
    Ok(remediation)
}
