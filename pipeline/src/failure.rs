//! Whether a failed invocation is worth retrying: [`Failure`] carries the message and a
//! [`Retry`] class, which the Lambda runtime reports as the error type (`Retryable` /
//! `NonRetryable`) so that EventBridge, SQS and Lambda retry only what can succeed.

use std::fmt;

use reachguard_shared::aws::AdapterError;

/// Whether retrying a failed invocation can help; the runtime reports it as the error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, timeouts, 5xx, an unreachable dependency: a retry may succeed.
    Retryable,
    /// Permissions, a malformed response, a resource that cannot be used: a retry repeats the
    /// failure (the invocation still fails, so the on-failure destination shows it).
    NonRetryable,
}

impl Retry {
    /// `Retryable` or `NonRetryable`, the `errorType` the runtime reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Retryable => "Retryable",
            Retry::NonRetryable => "NonRetryable",
        }
    }

    /// How an AWS call's failure is classified.
    pub fn of(error: &AdapterError) -> Retry {
        if error.is_transient() {
            Retry::Retryable
        } else {
            Retry::NonRetryable
        }
    }
}

/// A failed invocation: the handler's error, classified. Logged where it arises; the runtime
/// posts it to the Runtime API's `…/error` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Whether a retry can help.
    pub retry: Retry,
    /// What failed.
    pub message: String,
}

impl Failure {
    /// A failure of `retry` kind.
    pub fn new(retry: Retry, message: impl fmt::Display) -> Self {
        Failure {
            retry,
            message: message.to_string(),
        }
    }
}

impl From<AdapterError> for Failure {
    fn from(error: AdapterError) -> Self {
        Failure::new(Retry::of(&error), error)
    }
}
