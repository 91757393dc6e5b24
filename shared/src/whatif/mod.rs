//! What-if: the findings a change *would* open and resolve, before anyone makes it.
//!
//! A change is applied to a copy of the snapshot **document** ([`crate::snapshot::Snapshot`]),
//! the copy is lowered and evaluated exactly as `check` does, and the two reports are compared
//! by finding identity ([`crate::finding::Finding::key`]). So "the impact of deleting X" equals,
//! by construction, "check on a snapshot with X removed", and the model and rules are untouched.
//!
//! - [`change`]: deletions and `RESOURCE:KEY=VALUE` modifications (what `reachguard impact` takes);
//! - [`terraform`]: a Terraform JSON plan's `resource_changes` applied to the document
//!   (`reachguard plan`);
//! - [`compare`]: the before/after difference, [`Impact`].
//!
//! Nothing here does I/O, so the Lambdas' code path can ask the same question at event time.

pub mod change;
pub mod terraform;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::SnapshotError;
use crate::evaluate::{Report, evaluate};
use crate::finding::Finding;
use crate::model::Topology;
use crate::rule_id::Severity;
use crate::snapshot::Snapshot;

/// Why a what-if question cannot be answered at all (nothing is evaluated).
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    /// A resource named by the change is not in the snapshot.
    #[error("{id} is not in the snapshot (check the id, or take a fresh snapshot)")]
    UnknownResource {
        /// The id as given.
        id: String,
    },
    /// A `--change` that cannot be read or does not fit its resource.
    #[error("change {change:?}: {reason}")]
    BadChange {
        /// The change as given.
        change: String,
        /// What was expected.
        reason: String,
    },
    /// The Terraform plan is not the documented JSON plan format.
    #[error("not a Terraform JSON plan (`terraform show -json PLANFILE`): {0}")]
    Plan(String),
    /// The snapshot (before) or its edited copy (after) does not lower to a model.
    #[error("{stage}: {source}")]
    Snapshot {
        /// `the snapshot` or `the snapshot after the change`.
        stage: &'static str,
        /// The problem.
        #[source]
        source: SnapshotError,
    },
}

/// A change (or part of a plan) that could not be simulated, with the reason. Never dropped
/// silently: it is listed in [`Impact::not_evaluated`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    /// The resource (an id, or a Terraform address).
    pub resource: String,
    /// Why it was not applied.
    pub reason: String,
}

/// A snapshot document with changes applied, and what was applied or not.
#[derive(Debug, Clone, Default)]
pub struct Edited {
    /// The document after the changes.
    pub snapshot: Snapshot,
    /// The changes applied, one line each (`delete vpce-…`, `create aws_subnet.a`).
    pub applied: Vec<String>,
    /// The changes that could not be applied.
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Totals of an [`Impact`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactSummary {
    /// Changes applied.
    pub applied: usize,
    /// Changes not evaluated.
    pub not_evaluated: usize,
    /// Findings the changes would open.
    pub opened: usize,
    /// Findings the changes would resolve.
    pub resolved: usize,
    /// Findings today.
    pub findings_before: usize,
    /// Findings after the changes.
    pub findings_after: usize,
}

/// The difference a change makes: findings opened and resolved, in the findings JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// Findings present after the change and not before (sorted like a report).
    pub opened: Vec<Finding>,
    /// Findings present before the change and not after.
    pub resolved: Vec<Finding>,
    /// What could not be applied, with the reason.
    pub not_evaluated: Vec<NotEvaluated>,
    /// The changes applied.
    pub applied: Vec<String>,
    /// Totals.
    pub summary: ImpactSummary,
    /// Soft input problems the change introduces (an id that now dangles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Impact {
    /// The most severe opened finding's severity.
    pub fn worst_opened(&self) -> Option<Severity> {
        self.opened.iter().map(|f| f.severity).min()
    }
}

/// Evaluates a snapshot document as `check` does.
pub fn evaluate_document(snapshot: &Snapshot, stage: &'static str) -> Result<Report, WhatIfError> {
    let topology = Topology::from_snapshot(snapshot)
        .map_err(|source| WhatIfError::Snapshot { stage, source })?;
    Ok(evaluate(&topology))
}

/// Evaluates `before` and the edited copy, and returns the findings that open and resolve.
pub fn compare(before: &Snapshot, edited: Edited) -> Result<Impact, WhatIfError> {
    let old = evaluate_document(before, "the snapshot")?;
    let new = evaluate_document(&edited.snapshot, "the snapshot after the change")?;
    Ok(diff(old, new, edited))
}

fn diff(old: Report, new: Report, edited: Edited) -> Impact {
    let old_keys: BTreeSet<String> = old.findings.iter().map(Finding::key).collect();
    let new_keys: BTreeSet<String> = new.findings.iter().map(Finding::key).collect();
    let old_warnings: BTreeSet<&String> = old.warnings.iter().collect();
    let warnings = new
        .warnings
        .iter()
        .filter(|w| !old_warnings.contains(w))
        .cloned()
        .collect();
    let summary = ImpactSummary {
        applied: edited.applied.len(),
        not_evaluated: edited.not_evaluated.len(),
        findings_before: old.findings.len(),
        findings_after: new.findings.len(),
        ..ImpactSummary::default()
    };
    let opened: Vec<Finding> = new
        .findings
        .into_iter()
        .filter(|f| !old_keys.contains(&f.key()))
        .collect();
    let resolved: Vec<Finding> = old
        .findings
        .into_iter()
        .filter(|f| !new_keys.contains(&f.key()))
        .collect();
    Impact {
        summary: ImpactSummary {
            opened: opened.len(),
            resolved: resolved.len(),
            ..summary
        },
        opened,
        resolved,
        not_evaluated: edited.not_evaluated,
        applied: edited.applied,
        warnings,
    }
}
