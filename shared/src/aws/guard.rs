//! The guard: the pipeline the event functions (`network-events`, `service-events`) and the
//! sweep's worker run for one event or one account/region (feature `lambda`).
//!
//! event → [`crate::intake`] decisions (the loop guard included) → for each scope to evaluate:
//! the account's credentials (the member role when it is not the home account) → scoped
//! collection → evaluation → lifecycle transitions → remediation per mode → one SNS message per
//! VPC with something to say (INTERFACES.md, "Lambda behaviour" and "Notifications").
//!
//! It owns the functions' shared configuration ([`Settings`], read from the environment once),
//! the order of the steps, and the split between input that can never succeed (logged, the
//! invocation succeeds) and failures worth a retry ([`GuardError`], which fails the invocation).
//! What a finding is, is the engine's; which transitions to announce, the lifecycle's; how a
//! resource is read or changed (and the [`Mode`]/[`Policy`] types), the adapters'.

use std::collections::BTreeSet;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_config::{Region, SdkConfig};
use serde::Serialize;
use serde_json::Value;

use super::clients::{Accounts, MemberRole};
use super::collect::{Collector, Scope};
use super::error::AdapterError;
use super::lambda::{ConfigError, Env, Failure, Retry};
use super::metrics::MetricsDays;
use super::notify::Notifier;
use super::remediate::{
    ActionReport, Mode, Outcome, PlannedAction, Policy, Remediator, outcome_transition, plan,
};
use super::state::{Claim, StateTable};
use crate::error::SnapshotError;
use crate::evaluate::evaluate_with_suppressed;
use crate::finding::Finding;
use crate::intake::{self, Decision, LoopGuard};
use crate::lifecycle::{DEFAULT_MAX_ATTEMPTS_PER_DAY, EvaluatedScope};
use crate::model::Topology;
use crate::notification::{Notification, Status, Transition, Trigger};
use crate::remediation::ActionName;
use crate::snapshot::Snapshot;

/// The configuration of the functions that evaluate (INTERFACES.md, "Lambda functions and their
/// configuration").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `REACHGUARD_MODE` (default `notify`) and `REACHGUARD_ALLOWED_ACTIONS` (default:
    /// [`ActionName::DEFAULT_ALLOWED`]).
    pub policy: Policy,
    /// `REACHGUARD_TOPIC_ARN` (required).
    pub topic_arn: String,
    /// `REACHGUARD_STATE_TABLE` (unset: no lifecycle, every finding is sent).
    pub state_table: Option<String>,
    /// `REACHGUARD_MEMBER_ROLE` and `REACHGUARD_EXTERNAL_ID` (unset: own account only).
    pub member_role: Option<MemberRole>,
    /// `REACHGUARD_IGNORE_PRINCIPALS`, as configured.
    pub ignore_principals: Option<String>,
    /// `REACHGUARD_REMINDER_HOURS` (default 24).
    pub reminder_hours: u32,
    /// `REACHGUARD_METRICS_DAYS`: NAT gateway metrics lookback (default 7, at most 15).
    pub metrics_days: MetricsDays,
}

impl Settings {
    /// Reads the settings; an error names the variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Settings, ConfigError> {
        let member_role = env
            .optional("REACHGUARD_MEMBER_ROLE")
            .map(|name| MemberRole {
                name,
                external_id: env.optional("REACHGUARD_EXTERNAL_ID"),
            });
        let allowed: Vec<ActionName> = env
            .list("REACHGUARD_ALLOWED_ACTIONS")?
            .unwrap_or_else(|| ActionName::DEFAULT_ALLOWED.to_vec());
        Ok(Settings {
            policy: Policy {
                mode: env.parsed("REACHGUARD_MODE", Mode::Notify)?,
                allowed: allowed.into_iter().collect(),
            },
            topic_arn: env.required("REACHGUARD_TOPIC_ARN")?,
            state_table: env.optional("REACHGUARD_STATE_TABLE"),
            member_role,
            ignore_principals: env.optional("REACHGUARD_IGNORE_PRINCIPALS"),
            reminder_hours: env.parsed("REACHGUARD_REMINDER_HOURS", 24)?,
            metrics_days: env.parsed("REACHGUARD_METRICS_DAYS", MetricsDays::default())?,
        })
    }
}

/// Why an evaluation failed. Nothing of it was notified.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// An AWS call failed (after the SDK's retries).
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// What was collected does not validate as a snapshot.
    #[error("the collected resources are not a valid snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
}

impl GuardError {
    /// Whether a retry may succeed.
    pub fn retry(&self) -> Retry {
        match self {
            GuardError::Aws(error) => Retry::of(error),
            GuardError::Snapshot(_) => Retry::NonRetryable,
        }
    }
}

impl From<GuardError> for Failure {
    fn from(error: GuardError) -> Self {
        Failure::new(error.retry(), error)
    }
}

/// Where to evaluate: an account and region (`None`: the function's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
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
    settings: Settings,
    accounts: Accounts,
    notifier: Notifier,
    state: Option<StateTable>,
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
        let me = aws_sdk_sts::Client::new(&home)
            .get_caller_identity()
            .send()
            .await
            .map_err(AdapterError::of("GetCallerIdentity"))?;
        let loop_guard = LoopGuard::from_settings(
            me.arn(),
            settings.member_role.as_ref().map(|r| r.name.as_str()),
            settings.ignore_principals.as_deref(),
        );
        tracing::info!(
            own_role = me.arn().unwrap_or_default(),
            mode = %settings.policy.mode,
            member_role = settings.member_role.as_ref().map(|r| r.name.as_str()),
            state_table = settings.state_table.as_deref(),
            "reachguard guard ready"
        );
        Ok(Guard {
            notifier: Notifier::new(&home, &settings.topic_arn),
            state,
            accounts: Accounts::new(home, settings.member_role.clone()),
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
                    let target = Target { account, region };
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
        target: &Target,
        scope: &Scope,
        trigger: &Trigger,
    ) -> Result<Evaluated, GuardError> {
        let started = Instant::now();
        let home = self.accounts.home_account().await?.to_owned();
        let account = target
            .account
            .clone()
            .filter(|a| is_account_id(a))
            .unwrap_or(home);
        let mut config = self.accounts.config_for(&account).await?;
        if let Some(region) = &target.region
            && config.region().map(|r| r.as_ref()) != Some(region.as_str())
        {
            config = config
                .to_builder()
                .region(Region::new(region.clone()))
                .build();
        }
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
        let (report, suppressed) = evaluate_with_suppressed(&topology);
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
    /// without a table, every current finding `opened` (INTERFACES.md).
    async fn transitions(
        &self,
        scope: &EvaluatedScope,
        findings: &[Finding],
        suppressed: &[Finding],
    ) -> Result<Claim, GuardError> {
        let Some(state) = &self.state else {
            let opened = findings
                .iter()
                .map(|finding| Transition {
                    status: Status::Opened,
                    finding: finding.clone(),
                    remediation: None,
                })
                .collect();
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
    ) -> Result<(usize, usize, Vec<String>), GuardError> {
        let evaluated = at.evaluated;
        if let Some(state) = &self.state
            && trigger.event_name.as_deref() == Some("DeleteService")
        {
            // The service is gone: its open findings (wherever stored) are resolved.
            for service in at.scope.services.iter().filter(|s| s.starts_with("arn:")) {
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
        let announced = notifications.iter().map(|n| n.transitions.len()).sum();
        Ok((announced, remediated, messages))
    }

    /// Decides each newly opened finding's plan as its VPC's mode says and applies it in
    /// `remediate` mode ([`Remediator::execute`]: mode, allow-list, safety check). With a state
    /// table, a finding gets at most [`DEFAULT_MAX_ATTEMPTS_PER_DAY`] attempts a day and each
    /// attempt is recorded. When something was applied, the scope is collected and evaluated
    /// again: a finding is `remediated` only when it is gone, and the lifecycle records that
    /// state at once (the remediated findings are not announced again as `resolved`; anything
    /// else the change caused is announced). Returns the transitions to announce and the number
    /// of actions applied; the claim grows by the follow-up's writes.
    async fn remediate(
        &self,
        at: &Collected<'_>,
        claim: &mut Claim,
    ) -> Result<(Vec<Transition>, usize), GuardError> {
        let Collected {
            config,
            scope,
            snapshot,
            topology,
            evaluated,
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
        let (report, suppressed) =
            evaluate_with_suppressed(&Topology::from_snapshot(&after.snapshot)?);
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
    ) -> Result<(Vec<PlannedAction>, Vec<ActionReport>), GuardError> {
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
                may |= record.is_none_or(|r| r.may_attempt(now(), DEFAULT_MAX_ATTEMPTS_PER_DAY));
            }
            if may {
                allowed.push((vpc, action, findings));
            } else {
                let reason = format!(
                    "the daily limit of {DEFAULT_MAX_ATTEMPTS_PER_DAY} remediation attempts per finding is reached"
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
    ) -> Result<(), GuardError> {
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

/// What one evaluation collected, and where: the context remediation and announcing work in.
#[derive(Clone, Copy)]
struct Collected<'a> {
    config: &'a SdkConfig,
    scope: &'a Scope,
    snapshot: &'a Snapshot,
    topology: &'a Topology,
    evaluated: &'a EvaluatedScope,
}

/// Seconds since the epoch (the lifecycle's clock).
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A real account id (EventBridge test events carry placeholders).
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    #[test]
    fn settings_defaults_and_errors() {
        let s = Settings::from_env(&env(&[("REACHGUARD_TOPIC_ARN", "arn:t")])).expect("settings");
        assert_eq!(s.policy, Policy::default());
        assert_eq!(s.reminder_hours, 24);
        assert_eq!(s.member_role, None);

        let missing = Settings::from_env(&env(&[])).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "REACHGUARD_TOPIC_ARN is required but not set"
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_MODE", "fix-it"),
        ]))
        .unwrap_err();
        assert!(
            bad.to_string().starts_with("REACHGUARD_MODE=\"fix-it\""),
            "{bad}"
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            (
                "REACHGUARD_ALLOWED_ACTIONS",
                "enable-private-dns,delete-vpc",
            ),
        ]))
        .unwrap_err();
        assert!(bad.to_string().contains("delete-vpc"), "{bad}");
    }

    #[test]
    fn settings_from_every_variable() {
        let s = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_MODE", "dry-run"),
            ("REACHGUARD_STATE_TABLE", "state"),
            ("REACHGUARD_MEMBER_ROLE", "rg-member"),
            ("REACHGUARD_EXTERNAL_ID", "x-1"),
            (
                "REACHGUARD_ALLOWED_ACTIONS",
                "add-endpoint-subnet enable-private-dns",
            ),
            ("REACHGUARD_IGNORE_PRINCIPALS", "arn:aws:iam::1:role/rg-*"),
            ("REACHGUARD_REMINDER_HOURS", "6"),
        ]))
        .expect("settings");
        assert_eq!(s.policy.mode, Mode::DryRun);
        assert_eq!(s.state_table.as_deref(), Some("state"));
        assert_eq!(
            s.member_role,
            Some(MemberRole {
                name: "rg-member".into(),
                external_id: Some("x-1".into())
            })
        );
        assert_eq!(
            s.policy.allowed,
            BTreeSet::from([ActionName::AddEndpointSubnet, ActionName::EnablePrivateDns])
        );
        assert_eq!(s.reminder_hours, 6);
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("123"));
        assert!(!is_account_id("11112222333x"));
    }
}
