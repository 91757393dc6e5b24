//! The glue every reachguard Lambda shares (feature `lambda`): reading configuration from the
//! environment ([`Env`], [`ConfigError`]), setting up logging the way Lambda expects, and telling
//! the runtime whether a failed invocation is worth retrying ([`Failure`]).
//!
//! It owns no AWS calls and no business logic: what a function does lives in [`super::guard`] (the
//! event functions and the sweep's worker) or in the function's own crate.

use std::fmt;
use std::str::FromStr;

use lambda_runtime::Diagnostic;

use super::error::AdapterError;

/// A configuration variable that is missing or unusable. The message names the variable, so a
/// function that fails at start-up says exactly what to fix in its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{variable} is required but not set")]
    Missing {
        /// The variable.
        variable: &'static str,
    },
    /// A variable's value cannot be used.
    #[error("{variable}={value:?}: {reason}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where configuration comes from: the process environment, or (in tests) any lookup function.
/// Empty values count as unset.
pub struct Env<F = fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }

    /// Fixed variables (tests and tools).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env::from_fn(move |name: &str| map.get(name).cloned())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Variables from `lookup` (tests pass a map).
    pub fn from_fn(lookup: F) -> Self {
        Env { lookup }
    }

    /// The trimmed value of `variable`, `None` when unset or empty.
    pub fn optional(&self, variable: &'static str) -> Option<String> {
        (self.lookup)(variable)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The value of `variable`, or [`ConfigError::Missing`].
    pub fn required(&self, variable: &'static str) -> Result<String, ConfigError> {
        self.optional(variable)
            .ok_or(ConfigError::Missing { variable })
    }

    /// `variable` parsed with [`FromStr`]; `default` when unset.
    pub fn parsed<T>(&self, variable: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.optional(variable) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError::Invalid {
                variable,
                reason: e.to_string(),
                value,
            }),
        }
    }

    /// `variable` as a list (entries separated by commas and/or whitespace), each parsed;
    /// `None` when unset.
    pub fn list<T>(&self, variable: &'static str) -> Result<Option<Vec<T>>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(value) = self.optional(variable) else {
            return Ok(None);
        };
        value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry.parse().map_err(|e: T::Err| ConfigError::Invalid {
                    variable,
                    value: value.clone(),
                    reason: format!("{entry:?}: {e}"),
                })
            })
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }
}

/// Structured logs as Lambda expects them: JSON when the function's log format is JSON
/// (`AWS_LAMBDA_LOG_FORMAT`), the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else
/// `INFO`; no timestamps (CloudWatch adds them). Call once, first thing in `main`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

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

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        Diagnostic {
            error_type: failure.retry.as_str().to_owned(),
            error_message: failure.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    #[test]
    fn missing_and_invalid_values_name_the_variable() {
        let e = env(&[("A", "  "), ("N", "x1")]);
        assert_eq!(
            e.required("A").unwrap_err().to_string(),
            "A is required but not set"
        );
        let err = e.parsed::<u32>("N", 3).unwrap_err().to_string();
        assert!(err.starts_with("N=\"x1\": "), "{err}");
        assert_eq!(e.parsed::<u32>("UNSET", 3), Ok(3));
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        let e = env(&[("L", " 1, 2  3,,"), ("B", "1,x")]);
        assert_eq!(e.list::<u32>("L"), Ok(Some(vec![1, 2, 3])));
        assert_eq!(e.list::<u32>("UNSET"), Ok(None));
        assert!(
            e.list::<u32>("B")
                .unwrap_err()
                .to_string()
                .contains("\"x\"")
        );
    }

    #[test]
    fn failures_become_classified_diagnostics() {
        let throttled = AdapterError::Service {
            operation: "DescribeVpcs",
            code: "RequestLimitExceeded".into(),
            message: "slow down".into(),
        };
        let d = Diagnostic::from(Failure::from(throttled));
        assert_eq!(d.error_type, "Retryable");
        assert_eq!(
            d.error_message,
            "DescribeVpcs: RequestLimitExceeded: slow down"
        );
        let denied = AdapterError::Service {
            operation: "DescribeVpcs",
            code: "UnauthorizedOperation".into(),
            message: "no".into(),
        };
        assert_eq!(
            Diagnostic::from(Failure::from(denied)).error_type,
            "NonRetryable"
        );
    }
}
