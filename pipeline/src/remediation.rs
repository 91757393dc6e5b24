//! Remediation inside the pipeline: the newly opened findings' plans decided per their VPC's mode
//! and applied in `remediate` mode (the adapters' executor: mode, allow-list, safety check),
//! within the state table's per-finding daily attempt limit, each attempt recorded; then the
//! scope re-collected and re-evaluated so that a finding is `remediated` only when it is gone.

use std::collections::BTreeSet;

use reachguard_shared::aws::state::Claim;
use reachguard_shared::aws::{Collector, Remediator};
use reachguard_shared::evaluate::evaluate_with;
use reachguard_shared::lifecycle::EvaluatedScope;
use reachguard_shared::model::Topology;
use reachguard_shared::notification::{Status, Transition};
use reachguard_shared::remediation::{
    ActionReport, Mode, Outcome, PlannedAction, outcome_transition, plan,
};

use crate::error::EvaluationError;
use crate::guard::{Collected, Guard, now};

impl Guard {
    /// Decides each newly opened finding's plan as its VPC's mode says and applies it in
    /// `remediate` mode ([`Remediator::execute`]: mode, allow-list, safety check). With a state
    /// table, a finding gets at most `REACHGUARD_REMEDIATION_ATTEMPTS_PER_DAY` attempts a day
    /// and each attempt is recorded. When something was applied, the scope is collected and
    /// evaluated again: a finding is `remediated` only when it is gone, and the lifecycle records
    /// that state at once (the remediated findings are not announced again as `resolved`;
    /// anything else the change caused is announced). Returns the transitions to announce and
    /// the number of actions applied; the claim grows by the follow-up's writes.
    pub(crate) async fn remediate(
        &self,
        at: &Collected<'_>,
        claim: &mut Claim,
    ) -> Result<(Vec<Transition>, usize), EvaluationError> {
        let Collected {
            config,
            scope,
            snapshot,
            topology,
            evaluated,
            ..
        } = *at;
        let transitions = claim.transitions.clone();
        let policy = &self.settings.policy;
        let opened = transitions.iter().filter(|t| {
            t.status == Status::Opened && policy.mode_for(snapshot, &t.finding.vpc) != Mode::Notify
        });
        let planned = plan(opened.map(|t| &t.finding));
        if planned.is_empty() {
            return Ok((transitions, 0));
        }
        let (planned, mut reports) = self.within_attempt_limit(evaluated, planned).await?;
        let remediator = Remediator::new(config);
        reports.extend(
            remediator
                .execute(policy, snapshot, topology, planned)
                .await,
        );
        self.record_attempts(evaluated, &reports).await?;
        let applied = reports
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Applied(_)))
            .count();
        let changed = reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Applied(_) | Outcome::AlreadyDone(_)));
        if !changed {
            let transitions = transitions
                .into_iter()
                .map(|t| outcome_transition(t, &reports, None))
                .collect();
            return Ok((transitions, applied));
        }
        let after = Collector::new(config).collect(scope).await?;
        let (report, suppressed) = evaluate_with(
            &Topology::from_snapshot(&after.snapshot)?,
            self.settings.evaluation,
        );
        let still_open: BTreeSet<String> = report.findings.iter().map(|f| f.key()).collect();
        let mut transitions: Vec<Transition> = transitions
            .into_iter()
            .map(|t| outcome_transition(t, &reports, Some(&still_open)))
            .collect();
        let remediated: BTreeSet<String> = transitions
            .iter()
            .filter(|t| t.status == Status::Remediated)
            .map(|t| t.finding.key())
            .collect();
        if self.state.is_some() {
            let followup = self
                .transitions(evaluated, &report.findings, &suppressed)
                .await?;
            transitions.extend(
                followup
                    .transitions
                    .iter()
                    .filter(|t| {
                        !(t.status == Status::Resolved && remediated.contains(&t.finding.key()))
                    })
                    .cloned(),
            );
            claim.extend(followup);
        }
        Ok((transitions, applied))
    }

    /// Splits the plan: actions whose findings may still be attempted today, and reports for
    /// those that reached the daily limit (none without a state table).
    async fn within_attempt_limit(
        &self,
        evaluated: &EvaluatedScope,
        planned: Vec<PlannedAction>,
    ) -> Result<(Vec<PlannedAction>, Vec<ActionReport>), EvaluationError> {
        let Some(state) = &self.state else {
            return Ok((planned, Vec::new()));
        };
        let mut allowed = Vec::new();
        let mut limited = Vec::new();
        for (vpc, action, findings) in planned {
            let partition = evaluated.partition(&vpc);
            let mut may = false;
            for key in &findings {
                let record = state.record(&partition, key).await?;
                may |= record.is_none_or(|r| r.may_attempt(now(), self.settings.attempts_per_day));
            }
            if may {
                allowed.push((vpc, action, findings));
            } else {
                let reason = format!(
                    "the daily limit of {} remediation attempts per finding is reached",
                    self.settings.attempts_per_day
                );
                limited.push(ActionReport {
                    vpc,
                    action,
                    findings,
                    outcome: Outcome::Skipped(reason),
                });
            }
        }
        Ok((allowed, limited))
    }

    /// Records each attempted action (applied, already done or failed) on its findings' records.
    async fn record_attempts(
        &self,
        evaluated: &EvaluatedScope,
        reports: &[ActionReport],
    ) -> Result<(), EvaluationError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        for report in reports {
            let outcome = match &report.outcome {
                Outcome::Applied(_) | Outcome::AlreadyDone(_) => Ok(()),
                Outcome::Failed(error) => Err(error.clone()),
                Outcome::Planned(_) | Outcome::Skipped(_) => continue,
            };
            let partition = evaluated.partition(&report.vpc);
            for key in &report.findings {
                state
                    .record_attempt(&partition, key, now(), outcome.clone())
                    .await?;
            }
        }
        Ok(())
    }
}
