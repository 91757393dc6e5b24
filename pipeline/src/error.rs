//! [`EvaluationError`]: why a live evaluation (a scan, a guard evaluation, a remediation run)
//! failed. What it did not announce is left pending for the retry (when remediation was
//! interrupted, everything else was announced first).

use reachguard_shared::aws::AdapterError;
use reachguard_shared::error::SnapshotError;

use crate::failure::{Failure, Retry};

/// Why a live evaluation failed. What it did not announce is left pending for the retry (when
/// remediation was interrupted, everything else was announced first).
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    /// An AWS call failed (after the SDK's retries).
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// What was collected does not validate as a snapshot.
    #[error("the collected resources are not a valid snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
    /// The account to evaluate is not a 12-digit account id: unrecoverable input.
    #[error("{0:?} is not a 12-digit account id: the event cannot be evaluated")]
    NotAnAccount(String),
    /// A remediation call failed transiently (throttling, 5xx, timeout) after everything else
    /// was announced: its findings stay due, and a retry tries again.
    #[error("remediation interrupted by a transient failure, to be retried: {0}")]
    RemediationInterrupted(String),
    /// The invocation's deadline is too close to begin a step (what was claimed is given back).
    #[error(
        "stopped before {step}: {left_ms} ms left before the invocation's deadline (the retry continues)"
    )]
    Deadline {
        /// The step not begun.
        step: &'static str,
        /// Time left, in milliseconds.
        left_ms: u64,
    },
}

impl EvaluationError {
    /// Whether a retry may succeed.
    pub fn retry(&self) -> Retry {
        match self {
            EvaluationError::Aws(error) => Retry::of(error),
            EvaluationError::Snapshot(_) | EvaluationError::NotAnAccount(_) => Retry::NonRetryable,
            EvaluationError::RemediationInterrupted(_) | EvaluationError::Deadline { .. } => {
                Retry::Retryable
            }
        }
    }
}

impl From<EvaluationError> for Failure {
    fn from(error: EvaluationError) -> Self {
        Failure::new(error.retry(), error)
    }
}
