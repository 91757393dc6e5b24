//! Remediation inside the pipeline: the newly opened findings' plans (and those of open findings
//! whose last attempt failed transiently) decided per their VPC's mode and applied in
//! `remediate` mode (the adapters' executor: mode, allow-list, safety check), within the state
//! table's per-finding daily attempt limit, each attempt recorded; then the scope re-collected
//! and re-evaluated so that a finding is `remediated` only when it is gone. A transient failure
//! leaves the finding due and makes the invocation fail `Retryable` once everything else is
//! announced ([`Remediation::interrupted`]), so the retry tries again.

use std::collections::BTreeSet;

use reachguard_shared::aws::state::Claim;
use reachguard_shared::aws::{Collector, Remediator};
use reachguard_shared::evaluate::evaluate_with;
use reachguard_shared::finding::Finding;
use reachguard_shared::lifecycle::{EvaluatedScope, State};
use reachguard_shared::model::Topology;
use reachguard_shared::notification::{Status, Transition};
use reachguard_shared::remediation::{
    ActionReport, Mode, Outcome, PlannedAction, outcome_transition, plan,
};

use crate::error::EvaluationError;
use crate::guard::{Collected, Guard, now};

/// What remediation did in one evaluation.
#[derive(Debug, Default)]
pub(crate) struct Remediation {
    /// The transitions to announce (the claim's, with the actions' outcomes, and what the
    /// re-evaluation found).
    pub(crate) transitions: Vec<Transition>,
    /// Actions applied.
    pub(crate) applied: usize,
    /// The first action that failed transiently (its description and error): the findings stay
    /// due and the invocation is to be retried once everything else is announced.
    pub(crate) interrupted: Option<String>,
}

impl Guard {
    /// Decides the plans of the newly opened findings, and of the open findings still due for
    /// remediation after a transient failure ([`Record::remediation_due`]), as their VPC's mode
    /// says, and applies them in `remediate` mode ([`Remediator::execute`]: mode, allow-list,
    /// safety check). With a state table, a finding gets at most
    /// `REACHGUARD_REMEDIATION_ATTEMPTS_PER_DAY` attempts a day and each attempt is recorded.
    /// When something was applied, the scope is collected and evaluated again: a finding is
    /// `remediated` only when it is gone, and the lifecycle records that state at once (the
    /// remediated findings are not announced again as `resolved`; anything else the change
    /// caused is announced). A due finding is announced only when its retry settles it
    /// (`remediated` or `remediation-failed`). The claim grows by the follow-up's writes.
    ///
    /// [`Record::remediation_due`]: reachguard_shared::lifecycle::Record::remediation_due
    pub(crate) async fn remediate(
        &self,
        at: &Collected<'_>,
        claim: &mut Claim,
    ) -> Result<Remediation, EvaluationError> {
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
        let opened: Vec<&Finding> = transitions
            .iter()
            .filter(|t| {
                t.status == Status::Opened
                    && policy.mode_for(snapshot, &t.finding.vpc) != Mode::Notify
            })
            .map(|t| &t.finding)
            .collect();
        let due = self.still_due(at, &opened).await?;
        let planned = plan(opened.into_iter().chain(&due));
        if planned.is_empty() {
            return Ok(Remediation {
                transitions,
                ..Remediation::default()
            });
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
        let interrupted = reports.iter().find_map(|r| match &r.outcome {
            Outcome::Interrupted(error) => Some(format!("{}: {error}", r.action.describe())),
            _ => None,
        });
        let changed = reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Applied(_) | Outcome::AlreadyDone(_)));
        if !changed {
            let transitions = transitions
                .into_iter()
                .map(|t| outcome_transition(t, &reports, None))
                .chain(settled(&due, &reports, None))
                .collect();
            return Ok(Remediation {
                transitions,
                applied,
                interrupted,
            });
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
            .chain(settled(&due, &reports, Some(&still_open)))
            .collect();
        let remediated: BTreeSet<String> = transitions
            .iter()
            .filter(|t| t.status == Status::Remediated)
            .map(|t| t.finding.key())
            .collect();
        if self.state.is_some() {
            let followup = self
                .transitions(evaluated, &report.findings, &suppressed, claim.lease())
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
        Ok(Remediation {
            transitions,
            applied,
            interrupted,
        })
    }

    /// The current findings (not among `opened`) whose stored record says an earlier attempt
    /// failed transiently, in VPCs whose mode is not `notify`. One query per VPC, made only
    /// when such a finding has a plan at all.
    async fn still_due(
        &self,
        at: &Collected<'_>,
        opened: &[&Finding],
    ) -> Result<Vec<Finding>, EvaluationError> {
        let Some(state) = &self.state else {
            return Ok(Vec::new());
        };
        let opened: BTreeSet<String> = opened.iter().map(|f| f.key()).collect();
        let candidates: Vec<&Finding> = at
            .findings
            .iter()
            .filter(|f| {
                !f.remediation.is_empty()
                    && !opened.contains(&f.key())
                    && self.settings.policy.mode_for(at.snapshot, &f.vpc) != Mode::Notify
            })
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let due: BTreeSet<(String, String)> = state
            .load(at.evaluated)
            .await?
            .into_iter()
            .filter(|r| r.state == State::Open && r.remediation_due)
            .map(|r| (r.partition, r.key))
            .collect();
        Ok(candidates
            .into_iter()
            .filter(|f| due.contains(&(at.evaluated.partition(&f.vpc), f.key())))
            .cloned()
            .collect())
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

    /// Records each attempted action (applied, already done, failed or interrupted) on its
    /// findings' records; an interrupted one leaves them due.
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
                Outcome::Failed(error) | Outcome::Interrupted(error) => Err(error.clone()),
                Outcome::Planned(_) | Outcome::Skipped(_) => continue,
            };
            let due = matches!(report.outcome, Outcome::Interrupted(_));
            let partition = evaluated.partition(&report.vpc);
            for key in &report.findings {
                state
                    .record_attempt(&partition, key, now(), outcome.clone(), due)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The transitions of findings retried because they were due: announced only when the retry
/// settled them (`remediated`, or `remediation-failed` for good); an attempt interrupted again
/// or skipped (the daily limit) says nothing new.
fn settled<'a>(
    due: &'a [Finding],
    reports: &'a [ActionReport],
    still_open: Option<&'a BTreeSet<String>>,
) -> impl Iterator<Item = Transition> + 'a {
    due.iter()
        .map(move |f| outcome_transition(Transition::opened(f.clone()), reports, still_open))
        .filter(|t| matches!(t.status, Status::Remediated | Status::RemediationFailed))
}
