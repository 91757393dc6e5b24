//! The guard: the pipeline the event functions (`network-events`, `service-events`) and the
//! sweep's worker run for one event or one account/region.
//!
//! event → [`reachguard_shared::intake`] decisions (the loop guard included) → for each scope to
//! evaluate: the account's credentials (the member role when it is not the home account) →
//! scoped collection → evaluation → lifecycle transitions → remediation per mode → one SNS
//! message per VPC with something to say (README "The Lambda functions").
//!
//! It owns the order of the steps and the split between input that can never succeed (logged,
//! the invocation succeeds) and failures worth a retry ([`EvaluationError`], which fails the
//! invocation). What a finding is, is the engine's; which transitions to announce, the
//! lifecycle's; what to remediate, the core's `remediation`; how a resource is read or changed,
//! the adapters'. Remediation with the state table's attempt limits is [`crate::remediation`];
//! what is handed to the sweep's work queue instead of evaluated inline is [`crate::deferral`].

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use reachguard_shared::account::is_account_id;
use reachguard_shared::aws::queue::WorkItem;
use reachguard_shared::aws::state::Claim;
use reachguard_shared::aws::{
    Accounts, AdapterError, Collector, Notifier, Scope, SdkConfig, StateTable, WorkQueue,
};
use reachguard_shared::evaluate::evaluate_with;
use reachguard_shared::finding::Finding;
use reachguard_shared::intake::{self, Decision, LoopGuard};
use reachguard_shared::lifecycle::{EvaluatedScope, Lease};
use reachguard_shared::model::Topology;
use reachguard_shared::notification::{Notification, Transition, Trigger};
use reachguard_shared::snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value;

use crate::deadline::Deadline;
use crate::error::EvaluationError;
use crate::failure::{Failure, Retry};
use crate::remediation::Remediation;
use crate::settings::Settings;

/// Where to evaluate: an account and region (`None`: the function's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountRegion {
    /// 12-digit account id.
    pub account: Option<String>,
    /// Region name.
    pub region: Option<String>,
}

/// What one evaluation did, for the logs and the sweep's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evaluated {
    /// The account evaluated.
    pub account: String,
    /// The region evaluated.
    pub region: String,
    /// Current findings.
    pub findings: usize,
    /// Transitions notified.
    pub transitions: usize,
    /// Remediation actions applied.
    pub remediated: usize,
    /// SNS message ids, one per VPC notified (one per part when a VPC's notification was split).
    pub messages: Vec<String>,
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Handled {
    /// Events ignored, each with its reason.
    pub ignored: Vec<String>,
    /// The evaluations done.
    pub evaluated: Vec<Evaluated>,
    /// The evaluations handed to the sweep's work queue (whole accounts/regions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<WorkItem>,
    /// Why the input (or an event of it: one whose account is not an account id) was rejected;
    /// the invocation still succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// Everything an evaluation needs, built once per cold start and reused by warm invocations.
#[derive(Debug)]
pub struct Guard {
    pub(crate) settings: Settings,
    pub(crate) accounts: Accounts,
    notifier: Notifier,
    pub(crate) state: Option<StateTable>,
    /// The sweep's work queue, when configured ([`crate::deferral`]).
    pub(crate) queue: Option<WorkQueue>,
    loop_guard: LoopGuard,
}

impl Guard {
    /// Builds the clients from `home` (the function's own configuration), learns the function's
    /// own role through STS `GetCallerIdentity` (for the loop guard) and checks that the state
    /// table, when configured, can be reached: a function that cannot keep its lifecycle fails
    /// at start-up rather than notifying every finding on every event.
    pub async fn start(settings: Settings, home: SdkConfig) -> Result<Guard, AdapterError> {
        let state = settings
            .state_table
            .as_ref()
            .map(|table| StateTable::new(&home, table));
        if let Some(state) = &state {
            state.check().await?;
        }
        let notifier = Notifier::new(&home, &settings.topic_arn);
        let queue = settings
            .sweep_queue_url
            .as_ref()
            .map(|url| WorkQueue::new(&home, url));
        let accounts = Accounts::new(home, settings.member_role.clone());
        let own_role = accounts.identity().await?.arn.clone();
        let loop_guard = LoopGuard::from_settings(
            Some(&own_role),
            settings.member_role.as_ref().map(|r| r.name.as_str()),
            settings.ignore_principals.as_deref(),
        );
        tracing::info!(
            own_role = %own_role,
            mode = %settings.policy.mode,
            member_role = settings.member_role.as_ref().map(|r| r.name.as_str()),
            state_table = settings.state_table.as_deref(),
            sweep_queue = settings.sweep_queue_url.as_deref(),
            "reachguard guard ready"
        );
        Ok(Guard {
            notifier,
            state,
            queue,
            accounts,
            loop_guard,
            settings,
        })
    }

    /// The function's own account (STS `GetCallerIdentity`, asked once).
    pub async fn home_account(&self) -> Result<&str, AdapterError> {
        self.accounts.home_account().await
    }

    /// Checks that reachguard can work in `account`: the home account, or one whose member
    /// role STS lets it assume (the credentials are fetched now and kept for its evaluations).
    pub async fn check_account(&self, account: &str) -> Result<(), AdapterError> {
        self.accounts.config_for(account).await.map(drop)
    }

    /// Handles one event delivery (an EventBridge event, or any container the intake accepts).
    /// Input that holds no event, and an event whose account is not a 12-digit account id, are
    /// logged at error level and succeed (a retry cannot help); ignored events (the intake's
    /// reasons, or a region outside `REACHGUARD_REGIONS`) succeed; a failed evaluation fails the
    /// invocation (after the others of the same input were tried, so one bad account never
    /// hides another's findings). Each step begins only with time left before `deadline`
    /// ([`Deadline::check`]).
    pub async fn handle(&self, input: Value, deadline: Deadline) -> Result<Handled, Failure> {
        let events = match intake::decode_value(input) {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(error = %error, "input rejected: it can never be evaluated");
                return Ok(Handled {
                    rejected: Some(error.to_string()),
                    ..Handled::default()
                });
            }
        };
        let mut outcome = Handled::default();
        let mut failure: Option<Failure> = None;
        for event in &events {
            match intake::classify(event, &self.loop_guard) {
                Decision::Ignore { event_name, reason } => {
                    tracing::info!(event_name = event_name.as_deref(), reason = %reason, "event ignored");
                    outcome.ignored.push(reason.to_string());
                }
                Decision::Evaluate {
                    account,
                    region,
                    event_name,
                    event_id,
                    scope,
                } => {
                    if let Some(reason) = self.settings.uncovered_region(region.as_deref()) {
                        tracing::info!(event_name = %event_name, reason = %reason, "event ignored");
                        outcome.ignored.push(reason);
                        continue;
                    }
                    let target = AccountRegion { account, region };
                    let regional = self.regional_queue(&scope, &event_name);
                    let trigger = Trigger {
                        event_name: Some(event_name),
                        event_id,
                    };
                    let done = match regional {
                        Some(queue) => self
                            .defer_region(queue, &target, &trigger)
                            .await
                            .map(|item| outcome.deferred.push(item)),
                        None => self
                            .evaluate_within(&target, &scope, &trigger, 0, deadline)
                            .await
                            .map(|done| outcome.evaluated.push(done)),
                    };
                    match done {
                        Ok(()) => {}
                        Err(error @ EvaluationError::NotAnAccount(_)) => {
                            tracing::error!(
                                error = %error,
                                event_name = trigger.event_name.as_deref(),
                                event_id = trigger.event_id.as_deref(),
                                "event rejected: it can never be evaluated"
                            );
                            outcome.rejected = Some(error.to_string());
                        }
                        Err(error) => {
                            tracing::error!(
                                error = %error,
                                retry = error.retry().as_str(),
                                event_name = trigger.event_name.as_deref(),
                                event_id = trigger.event_id.as_deref(),
                                "evaluation failed"
                            );
                            // A transient failure wins: the invocation must be retried.
                            if failure.as_ref().is_none_or(|f| f.retry != Retry::Retryable) {
                                failure = Some(error.into());
                            }
                        }
                    }
                }
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(outcome),
        }
    }

    /// Evaluates `scope` in `target`'s account (`None`: the home account; anything but a
    /// 12-digit id: [`EvaluationError::NotAnAccount`]) and region, without a known deadline
    /// (claims are leased for [`crate::deadline::LEASE_WITHOUT_DEADLINE`]): see
    /// [`Guard::evaluate_within`].
    pub async fn evaluate(
        &self,
        target: &AccountRegion,
        scope: &Scope,
        trigger: &Trigger,
    ) -> Result<Evaluated, EvaluationError> {
        self.evaluate_recheck(target, scope, trigger, 0).await
    }

    /// `target`'s account: the home account when it names none, [`EvaluationError::NotAnAccount`]
    /// when it names anything but a 12-digit account id.
    pub(crate) async fn account_of(
        &self,
        target: &AccountRegion,
    ) -> Result<String, EvaluationError> {
        match &target.account {
            None => Ok(self.accounts.home_account().await?.to_owned()),
            Some(account) if is_account_id(account) => Ok(account.clone()),
            Some(other) => Err(EvaluationError::NotAnAccount(other.clone())),
        }
    }

    /// [`Guard::evaluate`] as the `recheck`-th re-evaluation of unsettled resources (a
    /// [`WorkItem`]'s `recheck`).
    pub async fn evaluate_recheck(
        &self,
        target: &AccountRegion,
        scope: &Scope,
        trigger: &Trigger,
        recheck: u32,
    ) -> Result<Evaluated, EvaluationError> {
        self.evaluate_within(target, scope, trigger, recheck, Deadline::unknown())
            .await
    }

    /// Evaluates `scope` in `target`'s account and region (the `recheck`-th re-evaluation of
    /// unsettled resources), remediates per mode and publishes one message per VPC with
    /// transitions. Findings that depend only on unsettled resources are held back and their
    /// VPCs evaluated again later ([`crate::deferral`]). With a state table, the transitions are
    /// first claimed (recorded pending under a lease that ends at `deadline`) and marked
    /// announced per VPC once SNS accepted its message; on any failure the unannounced ones are
    /// given back for the retry (and, should the process die, the next evaluation of the VPC
    /// takes them over).
    pub async fn evaluate_within(
        &self,
        target: &AccountRegion,
        scope: &Scope,
        trigger: &Trigger,
        recheck: u32,
        deadline: Deadline,
    ) -> Result<Evaluated, EvaluationError> {
        let started = Instant::now();
        deadline.check("collection")?;
        let account = self.account_of(target).await?;
        let config = self
            .accounts
            .config_in(&account, target.region.as_deref())
            .await?;
        let region = config.region().map(ToString::to_string).unwrap_or_default();
        let collection = Collector::new(&config)
            .with_account(&account)
            .with_metrics_days(self.settings.metrics_days)
            .collect(scope)
            .await?;
        for warning in &collection.warnings {
            tracing::warn!(account = %account, region = %region, "{warning}");
        }
        let topology = Topology::from_snapshot(&collection.snapshot)?;
        let (report, suppressed) = evaluate_with(&topology, self.settings.evaluation);
        let this = WorkItem {
            account: account.clone(),
            region: region.clone(),
            trigger: Some(trigger.clone()).filter(|t| *t != Trigger::default()),
            recheck,
            ..WorkItem::default()
        };
        let (findings, held) = self
            .settle(this, &collection.snapshot, report.findings)
            .await?;
        let evaluated = EvaluatedScope {
            account: account.clone(),
            region: region.clone(),
            vpcs: collection
                .vpcs
                .clone()
                .unwrap_or_else(|| topology.vpcs.iter().map(|v| v.id.clone()).collect()),
            measured: !collection.nat_metrics_failed,
            held,
        };
        deadline.check("claiming the transitions")?;
        let lease = Lease {
            claim: claim_id(),
            until: deadline.lease_until(),
        };
        let mut claim = self
            .transitions(&evaluated, &findings, &suppressed, &lease)
            .await?;
        let collected = Collected {
            config: &config,
            scope,
            snapshot: &collection.snapshot,
            topology: &topology,
            evaluated: &evaluated,
            findings: &findings,
            suppressed: &suppressed,
        };
        let (notifications, remediated, messages, interrupted) = self
            .announce(&collected, trigger, &mut claim, deadline)
            .await?;
        let done = Evaluated {
            account,
            region,
            findings: findings.len(),
            transitions: notifications,
            remediated,
            messages,
        };
        tracing::info!(
            account = %done.account,
            region = %done.region,
            event_name = trigger.event_name.as_deref(),
            vpcs = collection.vpcs.as_ref().map_or(0, |v| v.len()),
            fell_back = collection.fell_back,
            calls = %collection.calls,
            findings = done.findings,
            transitions = done.transitions,
            remediated = done.remediated,
            notified = done.messages.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "evaluated"
        );
        if let Some(interrupted) = interrupted {
            // Everything else is announced; the retry tries the remediation again.
            return Err(EvaluationError::RemediationInterrupted(interrupted));
        }
        Ok(done)
    }

    /// The transitions of this evaluation: those this invocation won in the state table
    /// (claimed under `lease`), or, without a table, every current finding `opened`.
    pub(crate) async fn transitions(
        &self,
        scope: &EvaluatedScope,
        findings: &[Finding],
        suppressed: &[Finding],
        lease: &Lease,
    ) -> Result<Claim, EvaluationError> {
        let Some(state) = &self.state else {
            let opened = findings.iter().cloned().map(Transition::opened).collect();
            return Ok(Claim::unrecorded(opened));
        };
        let reminder_secs = i64::from(self.settings.reminder_hours) * 3600;
        Ok(state
            .transitions(scope, findings, suppressed, now(), reminder_secs, lease)
            .await?)
    }

    /// Completes the claim (the resolutions of a deleted service), remediates, records what is
    /// to be announced, publishes one message per VPC and marks what SNS accepted as announced.
    /// Whatever was not published is given back to the state table (by claim id) before the
    /// error is returned. Returns the number of transitions announced, of actions applied, the
    /// message ids, and the remediation interrupted by a transient failure, if any.
    async fn announce(
        &self,
        at: &Collected<'_>,
        trigger: &Trigger,
        claim: &mut Claim,
        deadline: Deadline,
    ) -> Result<(usize, usize, Vec<String>, Option<String>), EvaluationError> {
        let evaluated = at.evaluated;
        let prepared = self.prepare(at, claim, deadline).await;
        let remediation = match prepared {
            Ok(remediation) => remediation,
            Err(error) => {
                self.give_back(claim, claim.findings()).await;
                return Err(error);
            }
        };
        let notifications = Notification::group(
            &evaluated.account,
            &evaluated.region,
            trigger,
            remediation.transitions,
        );
        let published = self.notifier.publish_all(&notifications).await;
        // Security Hub imports are updates of the same finding ids: a retry repeats them harmlessly.
        self.export_to_security_hub(at, &notifications).await;
        let mut announced = 0;
        let mut messages = Vec::new();
        let (mut sent, mut unsent) = (Vec::new(), Vec::new());
        let mut failure = None;
        for part in published {
            let findings = part
                .part
                .transitions
                .iter()
                .map(|t| (t.finding.vpc.clone(), t.finding.key()));
            match part.result {
                Ok(id) => {
                    announced += part.part.transitions.len();
                    messages.push(id);
                    sent.extend(findings);
                }
                Err(error) => {
                    unsent.extend(findings);
                    failure.get_or_insert(error);
                }
            }
        }
        if let Some(state) = &self.state {
            let sent = sent.iter().map(|(vpc, key)| (vpc.as_str(), key.clone()));
            let marked = state.announced(claim, sent).await;
            if let Err(error) = marked {
                // SNS has them: a retry that finds them pending announces them again.
                tracing::error!(error = %error, "could not mark the published transitions announced");
            }
        }
        match failure {
            None => Ok((
                announced,
                remediation.applied,
                messages,
                remediation.interrupted,
            )),
            Some(error) => {
                let unsent = unsent.iter().map(|(vpc, key)| (vpc.as_str(), key.clone()));
                self.give_back(claim, unsent).await;
                Err(error.into())
            }
        }
    }

    /// Everything between the claim and the publishing: the deleted services' resolutions,
    /// remediation, and the transitions to announce recorded on their records (so that a retry
    /// announces what this invocation would have: `remediated`, not `opened`). Returns what
    /// remediation did, with the transitions to announce.
    async fn prepare(
        &self,
        at: &Collected<'_>,
        claim: &mut Claim,
        deadline: Deadline,
    ) -> Result<Remediation, EvaluationError> {
        let evaluated = at.evaluated;
        if let Some(state) = &self.state {
            // A deleted service is gone: its open findings (wherever stored) are resolved.
            for service in at
                .scope
                .deleted_services
                .iter()
                .filter(|s| s.starts_with("arn:"))
            {
                let resolved = state
                    .resolve_service(
                        &evaluated.account,
                        &evaluated.region,
                        service,
                        now(),
                        claim.lease(),
                    )
                    .await?;
                claim.extend(resolved);
            }
        }
        deadline.check("remediation")?;
        let remediation = self.remediate(at, claim).await?;
        if let Some(state) = &self.state {
            state.settle(claim, &remediation.transitions).await?;
        }
        deadline.check("publishing")?;
        Ok(remediation)
    }

    /// Gives the claim's transitions on `findings` (finding keys by VPC) back to the state
    /// table, so that the retry announces them; when even that fails, their lease expires at
    /// the deadline and the next evaluation of their VPC announces them.
    async fn give_back<'a>(
        &self,
        claim: &Claim,
        findings: impl IntoIterator<Item = (&'a str, String)>,
    ) {
        if let Some(state) = &self.state
            && let Err(error) = state.release(claim, findings).await
        {
            tracing::error!(error = %error, "could not give the claim back: its lease expires at the deadline");
        }
    }
}

/// What one evaluation collected, and where: the context remediation and announcing work in.
#[derive(Clone, Copy)]
pub(crate) struct Collected<'a> {
    pub(crate) config: &'a SdkConfig,
    pub(crate) scope: &'a Scope,
    pub(crate) snapshot: &'a Snapshot,
    pub(crate) topology: &'a Topology,
    pub(crate) evaluated: &'a EvaluatedScope,
    /// The evaluation's current findings.
    pub(crate) findings: &'a [Finding],
    /// The findings `reachguard:exempt` tags suppress in this evaluation.
    pub(crate) suppressed: &'a [Finding],
}

/// A claim id no other evaluation uses: a randomly keyed hash of a per-process counter, the
/// time and the process id.
fn claim_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos,
        std::process::id(),
    );
    format!("{:016x}", RandomState::new().hash_one(seed))
}

/// Seconds since the epoch (the lifecycle's clock).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
