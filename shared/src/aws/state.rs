//! The lifecycle's state table on DynamoDB (`REACHGUARD_STATE_TABLE`): one item per finding
//! identity, partitioned per VPC, written conditionally on the version read so that concurrent
//! evaluations never announce the same transition twice (see [`crate::lifecycle`]).
//!
//! Item layout: `pk` (S, `<account>#<region>#<vpc>`), `sk` (S, the finding key), `version` (N),
//! `state` (S), `service` (S, when the finding names one), `expires_at` (N, the TTL attribute, on
//! resolved items only) and `record` (S, the [`Record`] as JSON).

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::AdapterError;
use crate::finding::Finding;
use crate::lifecycle::{self, EvaluatedScope, Record, State, Update};
use crate::notification::{Status, Transition};

/// The partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute.
pub const SORT_KEY: &str = "sk";
/// The TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Every DynamoDB operation the state table calls: the functions' IAM policy must grant each
/// (`tests/tests/template.rs` checks `infra/template.yaml`).
pub const OPERATIONS: [&str; 6] = [
    "DescribeTable",
    "Query",
    "Scan",
    "GetItem",
    "PutItem",
    "DeleteItem",
];

type Item = HashMap<String, AttributeValue>;

/// The state table.
#[derive(Debug, Clone)]
pub struct StateTable {
    client: Client,
    table: String,
}

fn decode(item: &Item) -> Result<Record, AdapterError> {
    let text =
        item.get("record")
            .and_then(|v| v.as_s().ok())
            .ok_or(AdapterError::MissingField {
                operation: "Query",
                field: "Items[].record",
            })?;
    serde_json::from_str(text).map_err(|e| AdapterError::Request {
        operation: "Query",
        detail: format!("a state item's record is not a reachguard record: {e}"),
    })
}

fn encode(record: &Record) -> Result<Item, AdapterError> {
    let json = serde_json::to_string(record).map_err(|e| AdapterError::Request {
        operation: "PutItem",
        detail: e.to_string(),
    })?;
    let mut item = Item::from([
        (
            PARTITION_KEY.to_string(),
            AttributeValue::S(record.partition.clone()),
        ),
        (SORT_KEY.to_string(), AttributeValue::S(record.key.clone())),
        (
            "version".to_string(),
            AttributeValue::N(record.version.to_string()),
        ),
        (
            "state".to_string(),
            AttributeValue::S(record.state.as_str().to_string()),
        ),
        ("record".to_string(), AttributeValue::S(json)),
    ]);
    if let Some(service) = &record.finding.service {
        item.insert("service".to_string(), AttributeValue::S(service.clone()));
    }
    if let Some(expires) = record.expires_at() {
        item.insert(
            TTL_ATTRIBUTE.to_string(),
            AttributeValue::N(expires.to_string()),
        );
    }
    Ok(item)
}

impl StateTable {
    /// A handle on `table` (no call is made: see [`StateTable::check`]).
    pub fn new(config: &SdkConfig, table: impl Into<String>) -> Self {
        StateTable {
            client: Client::new(config),
            table: table.into(),
        }
    }

    /// Fails when the table cannot be reached (a Lambda checks this at start-up).
    pub async fn check(&self) -> Result<(), AdapterError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(AdapterError::of("DescribeTable"))?;
        Ok(())
    }

    /// The stored records of every VPC of `scope`.
    pub async fn load(&self, scope: &EvaluatedScope) -> Result<Vec<Record>, AdapterError> {
        let mut records = Vec::new();
        for partition in scope.partitions() {
            let items: Vec<Item> = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(partition))
                .consistent_read(true)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(AdapterError::of("Query"))?;
            for item in &items {
                records.push(decode(item)?);
            }
        }
        Ok(records)
    }

    /// Writes an update if the stored version is still the one it was computed from. Returns
    /// false when another invocation got there first (its transition is theirs to announce).
    pub async fn write(&self, update: &Update) -> Result<bool, AdapterError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&update.record)?));
        let request = if update.expected_version == 0 {
            request.condition_expression("attribute_not_exists(pk)")
        } else {
            request
                .condition_expression("version = :expected")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(update.expected_version.to_string()),
                )
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(AdapterError::sdk("PutItem", err)),
        }
    }

    /// Records an evaluation of `scope` and claims the transitions this invocation won:
    /// openings, reminders due after `reminder_secs`, and resolutions within the scope only.
    /// If announcing them fails, [`StateTable::release`] the claim so that a retry announces
    /// them again.
    pub async fn transitions(
        &self,
        scope: &EvaluatedScope,
        current: &[Finding],
        suppressed: &[Finding],
        now: i64,
        reminder_secs: i64,
    ) -> Result<Claim, AdapterError> {
        let previous = self.load(scope).await?;
        let updates =
            lifecycle::reconcile(scope, &previous, current, suppressed, now, reminder_secs);
        let mut claim = Claim::default();
        for update in updates {
            if self.write(&update).await? {
                let before = previous
                    .iter()
                    .find(|r| r.partition == update.record.partition && r.key == update.record.key);
                claim.won(before, update);
            }
        }
        Ok(claim)
    }

    /// Undoes a claim's announcing writes (each conditional on the version this invocation
    /// wrote, so a later invocation's writes are never undone).
    pub async fn release(&self, claim: Claim) -> Result<(), AdapterError> {
        for (before, written) in claim.undo {
            let version = AttributeValue::N(written.version.to_string());
            match before {
                Some(before) => {
                    let restore = Update {
                        expected_version: written.version,
                        record: Record {
                            version: written.version + 1,
                            ..before
                        },
                        transition: None,
                    };
                    self.write(&restore).await?;
                }
                None => {
                    let deleted = self
                        .client
                        .delete_item()
                        .table_name(&self.table)
                        .key(PARTITION_KEY, AttributeValue::S(written.partition.clone()))
                        .key(SORT_KEY, AttributeValue::S(written.key.clone()))
                        .condition_expression("version = :written")
                        .expression_attribute_values(":written", version)
                        .send()
                        .await;
                    if let Err(err) = deleted
                        && !err
                            .as_service_error()
                            .is_some_and(|e| e.is_conditional_check_failed_exception())
                    {
                        return Err(AdapterError::sdk("DeleteItem", err));
                    }
                }
            }
        }
        Ok(())
    }

    /// One stored record.
    pub async fn record(&self, partition: &str, key: &str) -> Result<Option<Record>, AdapterError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(partition.to_string()))
            .key(SORT_KEY, AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(AdapterError::of("GetItem"))?;
        item.item().map(decode).transpose()
    }

    /// Records a remediation attempt on a finding's record (the bookkeeping of attempts in
    /// the last day, last outcome, whether it is due again: [`Record::remediation_due`]). A
    /// record that changed meanwhile is re-read once.
    pub async fn record_attempt(
        &self,
        partition: &str,
        key: &str,
        now: i64,
        outcome: Result<(), String>,
        due: bool,
    ) -> Result<(), AdapterError> {
        for _ in 0..2 {
            let Some(mut record) = self.record(partition, key).await? else {
                return Ok(());
            };
            let expected_version = record.version;
            record.record_attempt(now, outcome.clone());
            record.remediation_due = due;
            record.version += 1;
            let update = Update {
                record,
                expected_version,
                transition: None,
            };
            if self.write(&update).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Resolves the open findings of a deleted service (wherever they are stored), with the
    /// reason in each transition's finding message.
    pub async fn resolve_service(
        &self,
        account: &str,
        region: &str,
        service_arn: &str,
        now: i64,
    ) -> Result<Claim, AdapterError> {
        let prefix = format!("{account}#{region}#");
        let items: Vec<Item> = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("service = :service AND #state = :open AND begins_with(pk, :prefix)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":service", AttributeValue::S(service_arn.to_string()))
            .expression_attribute_values(
                ":open",
                AttributeValue::S(State::Open.as_str().to_string()),
            )
            .expression_attribute_values(":prefix", AttributeValue::S(prefix))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(AdapterError::of("Scan"))?;
        let mut claim = Claim::default();
        for item in &items {
            let old = decode(item)?;
            let mut finding = old.finding.clone();
            finding.message = format!("{service_arn} was deleted: {}", finding.message);
            let update = Update {
                expected_version: old.version,
                record: Record {
                    state: State::Resolved,
                    resolved_at: Some(now),
                    last_notified: Some(now),
                    version: old.version + 1,
                    ..old.clone()
                },
                transition: Some(Transition {
                    status: Status::Resolved,
                    finding,
                    remediation: None,
                }),
            };
            if self.write(&update).await? {
                claim.won(Some(&old), update);
            }
        }
        Ok(claim)
    }
}

/// The transitions an invocation won in the table, and how to undo the writes behind them.
#[derive(Debug, Default)]
#[must_use = "announce the transitions, or release the claim"]
pub struct Claim {
    /// The transitions to announce.
    pub transitions: Vec<Transition>,
    undo: Vec<(Option<Record>, Record)>,
}

impl Claim {
    /// Transitions with nothing recorded behind them (no state table: every finding `opened`).
    pub fn unrecorded(transitions: Vec<Transition>) -> Claim {
        Claim {
            transitions,
            undo: Vec::new(),
        }
    }

    fn won(&mut self, before: Option<&Record>, update: Update) {
        if let Some(transition) = update.transition {
            self.transitions.push(transition);
            self.undo.push((before.cloned(), update.record));
        }
    }

    /// Adds another claim's transitions (and undo) to this one.
    pub fn extend(&mut self, other: Claim) {
        self.transitions.extend(other.transitions);
        self.undo.extend(other.undo);
    }
}
