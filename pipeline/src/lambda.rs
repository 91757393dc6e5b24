//! The glue only the Lambda functions need (feature `lambda`): logs the way Lambda expects them,
//! a [`Failure`] as the runtime's `Diagnostic`, and the invocation's [`Deadline`].

use lambda_runtime::{Context, Diagnostic};

use crate::deadline::Deadline;
use crate::failure::Failure;

/// The invocation's deadline, from its context.
pub fn deadline(context: &Context) -> Deadline {
    Deadline::at(context.deadline())
}

/// Structured logs as Lambda expects them: JSON when the function's log format is JSON
/// (`AWS_LAMBDA_LOG_FORMAT`), the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else
/// `INFO`; no timestamps (CloudWatch adds them). Call once, first thing in `main`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
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
    use reachguard_shared::aws::AdapterError;

    use super::*;

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
