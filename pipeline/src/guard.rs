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
//! the adapters'. Remediation with the state table's attempt limits is [`crate::remediation`].

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use reachguard_shared::account::is_account_id;
use reachguard_shared::aws::state::Claim;
use reachguard_shared::aws::{
    Accounts, AdapterError, Collector, Notifier, Scope, SdkConfig, StateTable,
};
use reachguard_shared::evaluate::evaluate_with;
use reachguard_shared::finding::Finding;
use reachguard_shared::intake::{self, Decision, LoopGuard};
use reachguard_shared::lifecycle::EvaluatedScope;
use reachguard_shared::model::Topology;
use reachguard_shared::notification::{Notification, Transition, Trigger};
use reachguard_shared::snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value;

use crate::error::EvaluationError;
use crate::failure::{Failure, Retry};
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
    /// SNS message ids, one per VPC notified.
    pub messages: Vec<String>,
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Handled {
    /// Events ignored, each with its reason.
    pub ignored: Vec<String>,
    /// The evaluations done.
    pub evaluated: Vec<Evaluated>,
    /// Why the input was rejected, when it holds no event (the invocation still succeeds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// Everything an evaluation needs, built once per cold start and reused by warm invocations.
#[derive(Debug)]
pub struct Guard {
    pub(crate) settings: Settings,
    accounts: Accounts,
    notifier: Notifier,
    pub(crate) state: Option<StateTable>,
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
            "reachguard guard ready"
        );
        Ok(Guard {
            notifier,
            state,
            accounts,
            loop_guard,
            settings,
        })
    }

    /// The function's own account (STS `GetCallerIdentity`, asked once).
    pub async fn home_account(&self) -> Result<&str, AdapterError> {
        self.accounts.home_account().await
    }

    /// Handles one event delivery (an EventBridge event, or any container the intake accepts).
    /// Input that holds no event is logged at error level and succeeds (a retry cannot help);
    /// ignored events succeed; a failed evaluation fails the invocation (after the others of the
    /// same input were tried, so one bad account never hides another's findings).
    pub async fn handle(&self, input: Value) -> Result<Handled, Failure> {
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
                    let target = AccountRegion { account, region };
                    let trigger = Trigger {
                        event_name: Some(event_name),
                        event_id,
                    };
                    match self.evaluate(&target, &scope, &trigger).await {
                        Ok(done) => outcome.evaluated.push(done),
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

    /// Evaluates `scope` in `target`'s account and region, remediates per mode and publishes one
    /// message per VPC with transitions. Nothing is published unless everything before it worked.
    pub async fn evaluate(
        &self,
        target: &AccountRegion,
        scope: &Scope,
        trigger: &Trigger,
    ) -> Result<Evaluated, EvaluationError> {
        let started = Instant::now();
        let home = self.accounts.home_account().await?.to_owned();
        let account = target
            .account
            .clone()
            .filter(|a| is_account_id(a))
            .unwrap_or(home);
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
        let evaluated = EvaluatedScope {
            account: account.clone(),
            region: region.clone(),
            vpcs: collection
                .vpcs
                .clone()
                .unwrap_or_else(|| topology.vpcs.iter().map(|v| v.id.clone()).collect()),
            measured: !collection.nat_metrics_failed,
        };
        let mut claim = self
            .transitions(&evaluated, &report.findings, &suppressed)
            .await?;
        let collected = Collected {
            config: &config,
            scope,
            snapshot: &collection.snapshot,
            topology: &topology,
            evaluated: &evaluated,
            suppressed: &suppressed,
        };
        let announced = self.announce(&collected, trigger, &mut claim).await;
        let (notifications, remediated, messages) = match announced {
            Ok(done) => done,
            Err(error) => {
                // Nothing (or not everything) was announced: give the transitions back so that
                // the retry announces them.
                if let Some(state) = &self.state
                    && let Err(release) = state.release(claim).await
                {
                    tracing::error!(error = %release, "could not release the lifecycle claim");
                }
                return Err(error);
            }
        };
        let done = Evaluated {
            account,
            region,
            findings: report.findings.len(),
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
        Ok(done)
    }

    /// The transitions of this evaluation: those this invocation won in the state table, or,
    /// without a table, every current finding `opened`.
    pub(crate) async fn transitions(
        &self,
        scope: &EvaluatedScope,
        findings: &[Finding],
        suppressed: &[Finding],
    ) -> Result<Claim, EvaluationError> {
        let Some(state) = &self.state else {
            let opened = findings.iter().cloned().map(Transition::opened).collect();
            return Ok(Claim::unrecorded(opened));
        };
        let reminder_secs = i64::from(self.settings.reminder_hours) * 3600;
        Ok(state
            .transitions(scope, findings, suppressed, now(), reminder_secs)
            .await?)
    }

    /// Completes the claim (the resolutions of a deleted service), remediates and publishes one
    /// message per VPC. Returns the number of transitions announced, of actions applied, and
    /// the message ids.
    async fn announce(
        &self,
        at: &Collected<'_>,
        trigger: &Trigger,
        claim: &mut Claim,
    ) -> Result<(usize, usize, Vec<String>), EvaluationError> {
        let evaluated = at.evaluated;
        if let Some(state) = &self.state {
            // A deleted service is gone: its open findings (wherever stored) are resolved.
            for service in at
                .scope
                .deleted_services
                .iter()
                .filter(|s| s.starts_with("arn:"))
            {
                claim.extend(
                    state
                        .resolve_service(&evaluated.account, &evaluated.region, service, now())
                        .await?,
                );
            }
        }
        let (transitions, remediated) = self.remediate(at, claim).await?;
        let notifications =
            Notification::group(&evaluated.account, &evaluated.region, trigger, transitions);
        let messages = self.notifier.publish_all(&notifications).await?;
        self.export_to_security_hub(at, &notifications).await;
        let announced = notifications.iter().map(|n| n.transitions.len()).sum();
        Ok((announced, remediated, messages))
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
    /// The findings `reachguard:exempt` tags suppress in this evaluation.
    pub(crate) suppressed: &'a [Finding],
}

/// Seconds since the epoch (the lifecycle's clock).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
