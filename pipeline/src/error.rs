//! [`EvaluationError`]: why a live evaluation (a scan, a guard evaluation, a remediation run)
//! failed. Nothing of it was notified.

use reachguard_shared::aws::AdapterError;
use reachguard_shared::error::SnapshotError;

use crate::failure::{Failure, Retry};

/// Why a live evaluation failed. Nothing of it was notified.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    /// An AWS call failed (after the SDK's retries).
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// What was collected does not validate as a snapshot.
    #[error("the collected resources are not a valid snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
}

impl EvaluationError {
    /// Whether a retry may succeed.
    pub fn retry(&self) -> Retry {
        match self {
            EvaluationError::Aws(error) => Retry::of(error),
            EvaluationError::Snapshot(_) => Retry::NonRetryable,
        }
    }
}

impl From<EvaluationError> for Failure {
    fn from(error: EvaluationError) -> Self {
        Failure::new(error.retry(), error)
    }
}
