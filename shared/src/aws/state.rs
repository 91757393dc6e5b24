//! The lifecycle's state table on DynamoDB (`REACHGUARD_STATE_TABLE`): one item per finding
//! identity, partitioned per VPC, written conditionally on the version read so that concurrent
//! evaluations never announce the same transition twice (see [`crate::lifecycle`]).
//!
//! Item layout: `pk` (S, `<account>#<region>#<vpc>`), `sk` (S, the finding key), `version` (N),
//! `state` (S), `service` (S, when the finding names one), `expires_at` (N, the TTL attribute, on
//! resolved items only) and `record` (S, the [`Record`] as JSON, with its pending transitions).
//!
//! A [`Claim`] is the transitions one evaluation recorded as pending under its lease: marked
//! announced once SNS accepted them, given back by claim id when publishing failed, taken over by
//! the next evaluation of the VPC when the lease expired (see [`crate::lifecycle`]). Reads and
//! writes of one evaluation run concurrently, at most [`CONCURRENCY`] at once; each write is
//! still conditional on the version it was computed from.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt, stream};

use super::AdapterError;
use crate::finding::Finding;
use crate::lifecycle::{self, EvaluatedScope, Lease, Pending, Record, State, Update};
use crate::notification::{Status, Transition};

/// The partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute.
pub const SORT_KEY: &str = "sk";
/// The TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Every DynamoDB operation the state table calls: the functions' IAM policy must grant each
/// (`tests/tests/template.rs` checks `infra/template.yaml`).
pub const OPERATIONS: [&str; 5] = ["DescribeTable", "Query", "Scan", "GetItem", "PutItem"];

/// State table requests of one evaluation in flight at once (the VPCs' queries, the records'
/// conditional writes): enough to overlap the round trips of a VPC's findings, few enough to
/// stay far below an on-demand table's throughput and the SDK's connection pool.
pub const CONCURRENCY: usize = 16;

/// How often [`StateTable::modify`] re-reads a record that others keep changing before it
/// gives up (a transient failure: the invocation is retried).
const MODIFY_ATTEMPTS: usize = 8;

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

    /// The stored records of every VPC of `scope` (one `Query` per VPC, at most
    /// [`CONCURRENCY`] at once).
    pub async fn load(&self, scope: &EvaluatedScope) -> Result<Vec<Record>, AdapterError> {
        let pages: Vec<Vec<Item>> = stream::iter(scope.partitions())
            .map(|partition| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(partition))
                    .consistent_read(true)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
            .map_err(AdapterError::of("Query"))?;
        pages.iter().flatten().map(decode).collect()
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

    /// Writes `updates` (each conditional on its version, at most [`CONCURRENCY`] at once) and
    /// returns the claim of those that won: the pending transitions `lease` holds on them.
    async fn claim(
        &self,
        previous: &[Record],
        updates: Vec<Update>,
        lease: &Lease,
    ) -> Result<Claim, AdapterError> {
        let won: Vec<Option<Update>> = stream::iter(updates)
            .map(|update| async move { Ok(self.write(&update).await?.then_some(update)) })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut claim = Claim::new(lease.clone());
        for update in won.into_iter().flatten() {
            let before = previous
                .iter()
                .find(|r| r.partition == update.record.partition && r.key == update.record.key);
            claim.won(before, &update.record);
        }
        Ok(claim)
    }

    /// Records an evaluation of `scope` and claims, under `lease`, the transitions this
    /// invocation won: openings, reminders due after `reminder_secs`, resolutions within the
    /// scope only, and the pending transitions of the scope whose lease expired. Each is pending
    /// on its record until [`StateTable::announced`] (or [`StateTable::release`]d).
    pub async fn transitions(
        &self,
        scope: &EvaluatedScope,
        current: &[Finding],
        suppressed: &[Finding],
        now: i64,
        reminder_secs: i64,
        lease: &Lease,
    ) -> Result<Claim, AdapterError> {
        let previous = self.load(scope).await?;
        let updates = lifecycle::reconcile(
            scope,
            &previous,
            current,
            suppressed,
            now,
            reminder_secs,
            lease,
        );
        self.claim(&previous, updates, lease).await
    }

    /// Replaces the transitions `claim` holds with `announce`, what remediation made of them
    /// (a `remediated` instead of an `opened`, no `resolved` for what was remediated), on the
    /// records where they differ, so that a retry announces what this invocation would have.
    pub async fn settle(&self, claim: &Claim, announce: &[Transition]) -> Result<(), AdapterError> {
        let changed: Vec<(&RecordId, Vec<Transition>)> = claim
            .held
            .iter()
            .filter_map(|(id, held)| {
                let settled: Vec<Transition> =
                    announce.iter().filter(|t| id.holds(t)).cloned().collect();
                (settled != held.transitions).then_some((id, settled))
            })
            .collect();
        stream::iter(changed)
            .map(|(id, settled)| {
                let partition = &claim.held[id].partition;
                self.modify(partition, &id.key, move |record| {
                    record.settle(&claim.lease, &settled);
                    true
                })
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
    }

    /// Marks the transitions `claim` holds on the records of `published` (finding keys by VPC,
    /// whose messages SNS accepted) as announced.
    pub async fn announced<'a>(
        &self,
        claim: &Claim,
        published: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Result<(), AdapterError> {
        let records = claim.records(published);
        self.modify_all(records, |record| record.announced(&claim.lease.claim))
            .await
    }

    /// Gives back the transitions `claim` holds on the records of `unpublished` (finding keys
    /// by VPC): their lease expires now, so the next evaluation of their VPC (the retry)
    /// announces them. Only this claim's transitions are touched, whatever else changed the
    /// records meanwhile.
    pub async fn release<'a>(
        &self,
        claim: &Claim,
        unpublished: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Result<(), AdapterError> {
        let records = claim.records(unpublished);
        self.modify_all(records, |record| record.release(&claim.lease.claim))
            .await
    }

    async fn modify_all(
        &self,
        records: Vec<(&str, &str)>,
        change: impl Fn(&mut Record) -> bool + Copy,
    ) -> Result<(), AdapterError> {
        stream::iter(records)
            .map(|(partition, key)| self.modify(partition, key, change))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
    }

    /// Reads a record, applies `change` and writes it back conditionally on the version read,
    /// re-reading while other writers get in between. `change` returns false when there is
    /// nothing to write; a record that does not exist is left alone.
    async fn modify(
        &self,
        partition: &str,
        key: &str,
        change: impl Fn(&mut Record) -> bool,
    ) -> Result<(), AdapterError> {
        for _ in 0..MODIFY_ATTEMPTS {
            let Some(mut record) = self.record(partition, key).await? else {
                return Ok(());
            };
            if !change(&mut record) {
                return Ok(());
            }
            let expected_version = record.version;
            record.version += 1;
            let update = Update {
                record,
                expected_version,
            };
            if self.write(&update).await? {
                return Ok(());
            }
        }
        Err(AdapterError::Transport {
            operation: "PutItem",
            detail: format!(
                "the state item {partition} / {key} changed {MODIFY_ATTEMPTS} times while it was being updated"
            ),
        })
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
    /// the last day, last outcome, whether it is due again: [`Record::remediation_due`]); its
    /// pending transitions are kept as they are.
    pub async fn record_attempt(
        &self,
        partition: &str,
        key: &str,
        now: i64,
        outcome: Result<(), String>,
        due: bool,
    ) -> Result<(), AdapterError> {
        self.modify(partition, key, |record| {
            record.record_attempt(now, outcome.clone());
            record.remediation_due = due;
            true
        })
        .await
    }

    /// Resolves the open findings of a deleted service (wherever they are stored), with the
    /// reason in each transition's finding message, claimed under `lease`.
    pub async fn resolve_service(
        &self,
        account: &str,
        region: &str,
        service_arn: &str,
        now: i64,
        lease: &Lease,
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
        let mut previous = Vec::with_capacity(items.len());
        let mut updates = Vec::with_capacity(items.len());
        for item in &items {
            let old = decode(item)?;
            let mut finding = old.finding.clone();
            finding.message = format!("{service_arn} was deleted: {}", finding.message);
            let mut record = Record {
                state: State::Resolved,
                resolved_at: Some(now),
                last_notified: Some(now),
                version: old.version + 1,
                ..old.clone()
            };
            let transition = Transition {
                status: Status::Resolved,
                finding,
                remediation: None,
            };
            record.take_over(lease, now);
            record.pending.push(Pending {
                lease: lease.clone(),
                transition,
            });
            updates.push(Update {
                expected_version: old.version,
                record,
            });
            previous.push(old);
        }
        self.claim(&previous, updates, lease).await
    }
}

/// A record a claim holds transitions on: its finding's VPC and key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RecordId {
    vpc: String,
    key: String,
}

impl RecordId {
    fn holds(&self, transition: &Transition) -> bool {
        transition.finding.vpc == self.vpc && transition.finding.key() == self.key
    }
}

/// What a claim holds on one record.
#[derive(Debug, Clone)]
struct Held {
    partition: String,
    transitions: Vec<Transition>,
}

/// The transitions an invocation claimed in the table: pending on their records under its
/// [`Lease`] until it marks them announced ([`StateTable::announced`]) or gives them back
/// ([`StateTable::release`]); should it die first, the lease expires and the next evaluation of
/// the VPC announces them.
#[derive(Debug)]
#[must_use = "announce the transitions, then mark them announced or release them"]
pub struct Claim {
    /// The transitions to announce: those this claim added or took over.
    pub transitions: Vec<Transition>,
    lease: Lease,
    held: BTreeMap<RecordId, Held>,
}

impl Claim {
    /// A claim under `lease` holding nothing yet.
    pub fn new(lease: Lease) -> Claim {
        Claim {
            transitions: Vec::new(),
            lease,
            held: BTreeMap::new(),
        }
    }

    /// Transitions with nothing recorded behind them (no state table: every finding `opened`).
    pub fn unrecorded(transitions: Vec<Transition>) -> Claim {
        Claim {
            transitions,
            ..Claim::new(Lease {
                claim: String::new(),
                until: 0,
            })
        }
    }

    /// The lease the transitions are held under.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Takes in a written record: the transitions the lease holds there that it did not hold
    /// before are this claim's to announce.
    fn won(&mut self, before: Option<&Record>, written: &Record) {
        let held: Vec<Transition> = written.held_by(&self.lease.claim).cloned().collect();
        if held.is_empty() {
            return;
        }
        let already = before.map_or(0, |b| b.held_by(&self.lease.claim).count());
        self.transitions.extend(held.iter().skip(already).cloned());
        self.held.insert(
            RecordId {
                vpc: written.finding.vpc.clone(),
                key: written.key.clone(),
            },
            Held {
                partition: written.partition.clone(),
                transitions: held,
            },
        );
    }

    /// Adds another claim's transitions (under the same lease) to this one.
    pub fn extend(&mut self, other: Claim) {
        self.transitions.extend(other.transitions);
        self.held.extend(other.held);
    }

    /// The finding keys, by VPC, of every record the claim holds transitions on.
    pub fn findings(&self) -> Vec<(&str, String)> {
        self.held
            .keys()
            .map(|id| (id.vpc.as_str(), id.key.clone()))
            .collect()
    }

    /// The (partition, key) of the held records among `findings` (finding keys by VPC).
    fn records<'a>(
        &self,
        findings: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Vec<(&str, &str)> {
        let wanted: BTreeSet<(&str, String)> = findings.into_iter().collect();
        self.held
            .iter()
            .filter(|(id, _)| wanted.contains(&(id.vpc.as_str(), id.key.clone())))
            .map(|(id, held)| (held.partition.as_str(), id.key.as_str()))
            .collect()
    }
}
