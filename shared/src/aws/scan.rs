//! A live evaluation: collect a scope, evaluate it exactly as `check` evaluates a snapshot file,
//! and (for the event-driven path) publish the notifications — only once everything before them
//! succeeded, so a failed collection never produces a partial notification.

use super::collect::{Collection, Collector, Scope};
use super::error::AdapterError;
use super::notify::Notifier;
use crate::error::SnapshotError;
use crate::evaluate::{Report, evaluate};
use crate::model::Topology;
use crate::notification::{Notification, Trigger};

/// Why a live evaluation failed. Nothing was notified.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// What was collected does not validate as a snapshot.
    #[error("the collected resources are not a valid snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
}

/// A collection and its evaluation.
#[derive(Debug, Clone)]
pub struct Scan {
    /// What was collected, and what it cost.
    pub collection: Collection,
    /// The findings.
    pub report: Report,
}

/// Collects `scope` and evaluates it.
pub async fn scan(collector: &Collector, scope: &Scope) -> Result<Scan, ScanError> {
    let collection = collector.collect(scope).await?;
    let mut report = evaluate(&Topology::from_snapshot(&collection.snapshot)?);
    report.warnings.extend(collection.warnings.iter().cloned());
    Ok(Scan { collection, report })
}

/// Scans `scope`, then publishes one notification per VPC with findings (every finding
/// `opened`, until the lifecycle exists). Returns the scan and the SNS message ids.
pub async fn scan_and_notify(
    collector: &Collector,
    notifier: &Notifier,
    scope: &Scope,
    trigger: &Trigger,
) -> Result<(Scan, Vec<String>), ScanError> {
    let scan = scan(collector, scope).await?;
    let snapshot = &scan.collection.snapshot;
    let notifications = Notification::opened(
        snapshot.account_id.as_deref().unwrap_or_default(),
        snapshot.region.as_deref().unwrap_or_default(),
        trigger,
        &scan.report.findings,
    );
    let ids = notifier.publish_all(&notifications).await?;
    Ok((scan, ids))
}
