//! The `sweep` Lambda's handler: CloudTrail delivery to EventBridge is best effort, so the sweep
//! re-evaluates every configured account and region on a schedule.
//!
//! One binary, two roles, told apart by the event:
//! - **Fan-out** (the scheduled EventBridge event): lists the accounts (AWS Organizations
//!   `ListAccounts` when `REACHGUARD_ORG` is set, else `REACHGUARD_ACCOUNTS`, else the function's
//!   own) × the regions (`REACHGUARD_REGIONS`, else the function's own) and sends one [`WorkItem`]
//!   per account/region to the work queue (`REACHGUARD_SWEEP_QUEUE_URL`), ten per
//!   `SendMessageBatch`. Accounts whose member role STS refuses (not deployed there) are left
//!   out with one warning and counted. No evaluation happens here, so the schedule's invocation
//!   stays short however large the organisation is.
//! - **Worker** (an SQS batch from that queue): evaluates each item's whole account/region (or
//!   the VPCs it names) through [`Guard::evaluate_recheck`], at most
//!   `REACHGUARD_SWEEP_CONCURRENCY` at once. One item's failure never stops the others: failed
//!   items are returned as the batch's item failures (SQS redelivers them, then moves them to the
//!   dead-letter queue), and a summary is logged. The event functions send items too
//!   (`reachguard_pipeline::deferral`): a whole account/region an event asked for, and the VPCs
//!   to re-evaluate once unsettled resources have settled.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use futures::stream::{self, StreamExt};
use reachguard_pipeline::{
    AccountRegion, ConfigError, Env, EvaluationError, Failure, Guard, Retry,
};
use reachguard_shared::account::is_account_id;
pub use reachguard_shared::aws::queue::WorkItem;
use reachguard_shared::aws::{AdapterError, Organization, SdkConfig, WorkQueue};
use reachguard_shared::text::truncate;
use serde::Serialize;
use serde_json::{Value, json};

/// The sweep's own configuration (the guard's is [`reachguard_shared::aws::guard::Settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `REACHGUARD_SWEEP_QUEUE_URL`: the work queue (required).
    pub queue_url: String,
    /// `REACHGUARD_ORG`: the organisation id; when set, accounts come from `ListAccounts`.
    pub org: Option<String>,
    /// `REACHGUARD_ACCOUNTS`: the accounts to sweep when no organisation is set (unset: the
    /// function's own).
    pub accounts: Option<Vec<String>>,
    /// `REACHGUARD_REGIONS`: the regions to sweep (unset: the function's own).
    pub regions: Option<Vec<String>>,
    /// `REACHGUARD_SWEEP_CONCURRENCY`: evaluations at once per worker invocation (default 4).
    pub concurrency: usize,
}

impl Config {
    /// Reads the configuration; an error names the variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Config, ConfigError> {
        let accounts: Option<Vec<String>> = env.list("REACHGUARD_ACCOUNTS")?;
        if let Some(bad) = accounts.iter().flatten().find(|a| !is_account_id(a)) {
            return Err(ConfigError::Invalid {
                variable: "REACHGUARD_ACCOUNTS",
                value: env.optional("REACHGUARD_ACCOUNTS").unwrap_or_default(),
                reason: format!("{bad:?} is not a 12-digit account id"),
            });
        }
        let concurrency = env.parsed("REACHGUARD_SWEEP_CONCURRENCY", 4usize)?;
        if concurrency == 0 {
            return Err(ConfigError::Invalid {
                variable: "REACHGUARD_SWEEP_CONCURRENCY",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Config {
            queue_url: env.required("REACHGUARD_SWEEP_QUEUE_URL")?,
            org: env.optional("REACHGUARD_ORG"),
            accounts,
            regions: env.list("REACHGUARD_REGIONS")?,
            concurrency,
        })
    }
}

/// What the sweep needs, built once per cold start.
#[derive(Debug)]
pub struct Sweep {
    /// The sweep's configuration.
    pub config: Config,
    /// The evaluation pipeline (the guard's clients, settings and own role).
    pub guard: Guard,
    /// The organisation's accounts (home account's credentials).
    pub organization: Organization,
    /// The work queue (`REACHGUARD_SWEEP_QUEUE_URL`).
    pub queue: WorkQueue,
    /// The function's own region.
    pub home_region: String,
}

impl Sweep {
    /// Builds the sweep's clients from the function's own SDK configuration.
    pub fn new(config: Config, guard: Guard, home: &SdkConfig) -> Sweep {
        Sweep {
            organization: Organization::new(home),
            queue: WorkQueue::new(home, &config.queue_url),
            config,
            guard,
            home_region: home.region().map(ToString::to_string).unwrap_or_default(),
        }
    }
}

/// Handles one invocation: an SQS batch is work, a scheduled event starts a sweep, anything
/// else can never succeed (logged; the invocation succeeds). Returns the SQS batch response
/// for work, a summary for a fan-out.
pub async fn handle(sweep: &Sweep, event: Value) -> Result<Value, Failure> {
    if is_sqs_batch(&event) {
        let batch: SqsEvent = match serde_json::from_value(event) {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(error = %error, "not an SQS batch: rejected");
                return Ok(json!({"rejected": error.to_string()}));
            }
        };
        let response = work(sweep, &batch).await;
        return serde_json::to_value(response).map_err(|e| Failure::new(Retry::NonRetryable, e));
    }
    if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let sweep_id = event.get("id").and_then(Value::as_str).map(str::to_owned);
        let done = fan_out(sweep, sweep_id).await?;
        return serde_json::to_value(done).map_err(|e| Failure::new(Retry::NonRetryable, e));
    }
    tracing::error!(
        event = %truncate(&event.to_string(), 200),
        "neither a scheduled event nor a work-queue batch: rejected"
    );
    Ok(json!({"rejected": "neither a scheduled event nor an SQS batch"}))
}

/// What a fan-out did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FannedOut {
    /// Work items sent.
    pub work_items: usize,
    /// Accounts left out because STS refuses the member role there.
    pub without_member_role: usize,
}

/// Sends one work item per account × region to the queue, leaving out the accounts whose member
/// role STS refuses (not deployed: the management account, an OU the StackSet does not target),
/// with one warning naming them.
pub async fn fan_out(sweep: &Sweep, sweep_id: Option<String>) -> Result<FannedOut, Failure> {
    let (accounts, without_role) = reachable(sweep, accounts(sweep).await?).await;
    if !without_role.is_empty() {
        tracing::warn!(
            sweep = sweep_id.as_deref(),
            accounts = ?without_role,
            "accounts skipped: the member role cannot be assumed there (deploy the member stack, or leave them out)"
        );
    }
    let regions = sweep
        .config
        .regions
        .clone()
        .unwrap_or_else(|| vec![sweep.home_region.clone()]);
    let items: Vec<WorkItem> = accounts
        .iter()
        .flat_map(|account| {
            regions.iter().map(|region| WorkItem {
                account: account.clone(),
                region: region.clone(),
                sweep: sweep_id.clone(),
                ..WorkItem::default()
            })
        })
        .collect();
    let bodies = items
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| Failure::new(Retry::NonRetryable, e))?;
    // Resending the whole sweep after a partial failure is harmless: evaluations are idempotent.
    sweep.queue.send_all(&bodies).await?;
    tracing::info!(
        sweep = sweep_id.as_deref(),
        accounts = accounts.len(),
        without_member_role = without_role.len(),
        regions = regions.len(),
        work_items = items.len(),
        "sweep fanned out"
    );
    Ok(FannedOut {
        work_items: items.len(),
        without_member_role: without_role.len(),
    })
}

/// Splits `accounts` into those to sweep and those whose member role STS refuses. Any other
/// failure to assume the role keeps the account: its work item fails (and is retried) on its own.
async fn reachable(sweep: &Sweep, accounts: Vec<String>) -> (Vec<String>, Vec<String>) {
    let checked: Vec<(String, bool)> = stream::iter(accounts)
        .map(|account| async move {
            let refused = matches!(
                sweep.guard.check_account(&account).await,
                Err(AdapterError::MemberRoleDenied { .. })
            );
            (account, refused)
        })
        .buffered(sweep.config.concurrency)
        .collect()
        .await;
    let (refused, reachable): (Vec<_>, Vec<_>) =
        checked.into_iter().partition(|(_, refused)| *refused);
    (
        reachable.into_iter().map(|(a, _)| a).collect(),
        refused.into_iter().map(|(a, _)| a).collect(),
    )
}

/// The accounts to sweep: the organisation's active accounts, the configured list, or the
/// function's own account.
async fn accounts(sweep: &Sweep) -> Result<Vec<String>, Failure> {
    if let Some(org) = &sweep.config.org {
        return Ok(sweep.organization.active_accounts(org).await?);
    }
    if let Some(accounts) = &sweep.config.accounts {
        return Ok(accounts.clone());
    }
    let home = sweep.guard.home_account().await?;
    Ok(vec![home.to_owned()])
}

/// Evaluates a batch of work items, at most `concurrency` at once; returns the failed items.
pub async fn work(sweep: &Sweep, batch: &SqsEvent) -> SqsBatchResponse {
    let results: Vec<(String, ItemResult)> = stream::iter(&batch.records)
        .map(|message| async move {
            let id = message.message_id.clone().unwrap_or_default();
            (id, work_item(sweep, message.body.as_deref()).await)
        })
        .buffer_unordered(sweep.config.concurrency)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    let mut summary = Summary::default();
    for (id, result) in results {
        match result {
            ItemResult::Done {
                findings,
                transitions,
                notified,
            } => {
                summary.evaluated += 1;
                summary.findings += findings;
                summary.transitions += transitions;
                summary.notified += notified;
            }
            ItemResult::Rejected => summary.rejected += 1,
            ItemResult::WithoutMemberRole => summary.without_member_role += 1,
            ItemResult::Failed => {
                summary.failed += 1;
                response.add_failure(id);
            }
        }
    }
    tracing::info!(
        items = batch.records.len(),
        evaluated = summary.evaluated,
        failed = summary.failed,
        rejected = summary.rejected,
        without_member_role = summary.without_member_role,
        findings = summary.findings,
        transitions = summary.transitions,
        notified = summary.notified,
        "sweep batch done"
    );
    response
}

#[derive(Debug, Default)]
struct Summary {
    evaluated: usize,
    failed: usize,
    rejected: usize,
    without_member_role: usize,
    findings: usize,
    transitions: usize,
    notified: usize,
}

enum ItemResult {
    Done {
        findings: usize,
        transitions: usize,
        notified: usize,
    },
    /// Not a work item: redelivering it cannot help.
    Rejected,
    /// STS refuses the member role in the item's account (removed since the fan-out):
    /// redelivering it cannot help either.
    WithoutMemberRole,
    Failed,
}

async fn work_item(sweep: &Sweep, body: Option<&str>) -> ItemResult {
    let item = match serde_json::from_str::<WorkItem>(body.unwrap_or_default()) {
        Ok(item) if is_account_id(&item.account) && !item.region.is_empty() => item,
        Ok(item) => {
            tracing::error!(account = %item.account, region = %item.region, "work item rejected: not an account/region");
            return ItemResult::Rejected;
        }
        Err(error) => {
            tracing::error!(error = %error, "work item rejected: not a work item");
            return ItemResult::Rejected;
        }
    };
    let target = AccountRegion {
        account: Some(item.account.clone()),
        region: Some(item.region.clone()),
    };
    let trigger = item.trigger.clone().unwrap_or_default();
    match sweep
        .guard
        .evaluate_recheck(&target, &item.scope(), &trigger, item.recheck)
        .await
    {
        Ok(done) => ItemResult::Done {
            findings: done.findings,
            transitions: done.transitions,
            notified: done.messages.len(),
        },
        Err(EvaluationError::Aws(error @ AdapterError::MemberRoleDenied { .. })) => {
            tracing::warn!(account = %item.account, region = %item.region, error = %error, "sweep item skipped");
            ItemResult::WithoutMemberRole
        }
        Err(error) => {
            tracing::error!(
                account = %item.account,
                region = %item.region,
                sweep = item.sweep.as_deref(),
                retry = error.retry().as_str(),
                error = %error,
                "sweep item failed"
            );
            ItemResult::Failed
        }
    }
}

fn is_sqs_batch(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| record.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    #[test]
    fn config_reads_lists_and_names_bad_variables() {
        let c = Config::from_env(&env(&[
            ("REACHGUARD_SWEEP_QUEUE_URL", "https://q"),
            ("REACHGUARD_ACCOUNTS", "111122223333, 444455556666"),
            ("REACHGUARD_REGIONS", "eu-west-1 us-east-1"),
        ]))
        .expect("config");
        assert_eq!(c.accounts.as_deref().map(<[String]>::len), Some(2));
        assert_eq!(c.regions.as_deref().map(<[String]>::len), Some(2));
        assert_eq!(c.concurrency, 4);
        let err = Config::from_env(&env(&[])).unwrap_err().to_string();
        assert_eq!(err, "REACHGUARD_SWEEP_QUEUE_URL is required but not set");
        let err = Config::from_env(&env(&[
            ("REACHGUARD_SWEEP_QUEUE_URL", "https://q"),
            ("REACHGUARD_ACCOUNTS", "1111"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("REACHGUARD_ACCOUNTS="), "{err}");
    }

    #[test]
    fn work_items_round_trip_and_batches_are_recognised() {
        let item = WorkItem {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            sweep: Some("e-1".into()),
            ..WorkItem::default()
        };
        let text = serde_json::to_string(&item).expect("json");
        assert_eq!(serde_json::from_str::<WorkItem>(&text).expect("item"), item);
        assert!(is_sqs_batch(
            &json!({"Records": [{"eventSource": "aws:sqs"}]})
        ));
        assert!(!is_sqs_batch(
            &json!({"Records": [{"eventSource": "aws:sns"}]})
        ));
        assert!(!is_sqs_batch(&json!({"detail-type": "Scheduled Event"})));
    }
}
