//! Evaluations the guard hands to the sweep's work queue (`REACHGUARD_SWEEP_QUEUE_URL`) instead
//! of doing them inline or at once (README "Deferred evaluations"):
//!
//! - an event whose scope is the whole account/region ([`Scope::is_regional`]) becomes one
//!   [`WorkItem`] for that account/region, evaluated by the sweep's worker (15 minutes) rather
//!   than by the event function (120 s);
//! - an evaluation that meets unsettled resources ([`reachguard_shared::settling`]) holds back
//!   the findings that depend only on them and sends one VPC-scoped item delivered after
//!   [`RECHECK_DELAY_SECS`], at most [`MAX_RECHECKS`] times in a row.
//!
//! Without a queue (the CLI, tests, deployments before the variable) both are done as before:
//! inline, and with every finding.

use std::collections::BTreeSet;

use reachguard_shared::aws::queue::WorkItem;
use reachguard_shared::aws::{Scope, WorkQueue};
use reachguard_shared::finding::Finding;
use reachguard_shared::notification::Trigger;
use reachguard_shared::settling;
use reachguard_shared::snapshot::Snapshot;

use crate::error::EvaluationError;
use crate::guard::{AccountRegion, Guard};

/// How long after an evaluation that met unsettled resources their VPC is evaluated again: a
/// NAT gateway or interface endpoint is usually available within one to two minutes.
pub const RECHECK_DELAY_SECS: u32 = 90;

/// Re-evaluations in a row that may still hold findings back; the next one reports whatever it
/// finds (a resource `pending` for 7.5 minutes is reported as it is).
pub const MAX_RECHECKS: u32 = 5;

impl Guard {
    /// The work queue to hand an event's evaluation to, when its `scope` is the whole
    /// account/region and a queue is configured.
    pub(crate) fn regional_queue(&self, scope: &Scope, event_name: &str) -> Option<&WorkQueue> {
        self.queue
            .as_ref()
            .filter(|_| scope.is_regional(event_name))
    }

    /// Sends one work item for `target`'s whole account/region to `queue`, to be delivered at
    /// once; returns it.
    pub(crate) async fn defer_region(
        &self,
        queue: &WorkQueue,
        target: &AccountRegion,
        trigger: &Trigger,
    ) -> Result<WorkItem, EvaluationError> {
        let home = self.accounts.home();
        let account = self.account_of(target).await?;
        let region = target
            .region
            .clone()
            .or_else(|| home.region().map(ToString::to_string))
            .unwrap_or_default();
        let item = WorkItem {
            account,
            region,
            trigger: Some(trigger.clone()),
            ..WorkItem::default()
        };
        let message_id = queue.send(&item, 0).await?;
        tracing::info!(
            account = %item.account,
            region = %item.region,
            event_name = trigger.event_name.as_deref(),
            message_id = %message_id,
            "the whole account/region is to be evaluated: handed to the sweep queue"
        );
        Ok(item)
    }

    /// The findings of an evaluation of `snapshot` to report, and the keys of those held back:
    /// without a queue, or when nothing is unsettled, or after [`MAX_RECHECKS`] re-evaluations,
    /// all of them are reported; else those that do not depend only on unsettled resources, the
    /// others are held back (their records stay as they are:
    /// [`reachguard_shared::lifecycle::EvaluatedScope::held`]), and one re-evaluation of their
    /// VPCs is scheduled [`RECHECK_DELAY_SECS`] later. `item` describes this evaluation as a work
    /// item (account, region, trigger, and `recheck`: the re-evaluations before it); the next one
    /// follows it.
    pub(crate) async fn settle(
        &self,
        item: WorkItem,
        snapshot: &Snapshot,
        findings: Vec<Finding>,
    ) -> Result<(Vec<Finding>, BTreeSet<String>), EvaluationError> {
        let unsettled = settling::unsettled(snapshot);
        let Some(queue) = self.queue.as_ref().filter(|_| !unsettled.is_empty()) else {
            return Ok((findings, BTreeSet::new()));
        };
        let resources: Vec<String> = unsettled
            .iter()
            .map(|u| format!("{} ({})", u.id, u.state))
            .collect();
        if item.recheck >= MAX_RECHECKS {
            tracing::warn!(
                account = %item.account,
                region = %item.region,
                unsettled = %resources.join(", "),
                recheck = item.recheck,
                "resources still unsettled after {MAX_RECHECKS} re-evaluations: evaluated as they are"
            );
            return Ok((findings, BTreeSet::new()));
        }
        let split = settling::split(snapshot, findings, self.settings.evaluation)?;
        let next = WorkItem {
            vpcs: unsettled
                .into_iter()
                .map(|u| u.vpc)
                .collect::<BTreeSet<_>>(),
            recheck: item.recheck + 1,
            ..item
        };
        let message_id = queue.send(&next, RECHECK_DELAY_SECS).await?;
        tracing::info!(
            account = %next.account,
            region = %next.region,
            vpcs = %next.vpcs.iter().cloned().collect::<Vec<_>>().join(", "),
            unsettled = %resources.join(", "),
            held_back = split.held.len(),
            delay_seconds = RECHECK_DELAY_SECS,
            recheck = next.recheck,
            message_id = %message_id,
            "unsettled resources: findings that depend only on them held back, re-evaluation scheduled"
        );
        let held = split.held.iter().map(Finding::key).collect();
        Ok((split.report, held))
    }
}
