//! [`AdapterError`]: what went wrong talking to AWS, naming the operation and the service's
//! error code and message (STYLE.md §9).

use std::error::Error as StdError;

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes that mean "slow down": the SDK's adaptive retry already retried them.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
];

/// A failed AWS call, after the SDK's own retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdapterError {
    /// The service answered with an error.
    #[error("{operation}: {code}: {message}")]
    Service {
        /// The API operation, e.g. `DescribeRouteTables`.
        operation: &'static str,
        /// The service's error code, e.g. `UnauthorizedOperation`.
        code: String,
        /// The service's error message.
        message: String,
    },
    /// No usable answer: timeout, connection failure, unparseable response.
    #[error("{operation}: {detail}")]
    Transport {
        /// The API operation.
        operation: &'static str,
        /// The SDK's description of the failure, with its causes.
        detail: String,
    },
    /// The request could not be built from the values given.
    #[error("{operation}: invalid request: {detail}")]
    Request {
        /// The API operation.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// STS refused the member role in an account (`AccessDenied`): the role is not deployed
    /// there (the management account, an OU the member StackSet does not target) or does not
    /// trust reachguard. Retrying cannot help until someone deploys it.
    #[error(
        "AssumeRole: {code}: reachguard cannot assume {role} in account {account}: the member \
         role is not deployed there or does not trust reachguard (deploy the member stack in that \
         account, or leave it out of the sweep): {message}"
    )]
    MemberRoleDenied {
        /// The account.
        account: String,
        /// The role's ARN.
        role: String,
        /// STS's error code (`AccessDenied`).
        code: String,
        /// STS's error message.
        message: String,
    },
    /// The answer lacks a member the adapter needs (an id, typically).
    #[error("{operation}: the response lacks {field}")]
    MissingField {
        /// The API operation.
        operation: &'static str,
        /// The missing member, e.g. `Subnets[].SubnetId`.
        field: &'static str,
    },
}

impl AdapterError {
    /// Wraps an SDK error of `operation`, keeping the service's code and message when it sent one.
    pub fn sdk<E>(operation: &'static str, err: E) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match err.code() {
            Some(code) => AdapterError::Service {
                operation,
                code: code.to_owned(),
                message: err.message().unwrap_or_default().to_owned(),
            },
            None => AdapterError::Transport {
                operation,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// A `map_err` adapter: `.map_err(AdapterError::of("DescribeVpcs"))`.
    pub fn of<E>(operation: &'static str) -> impl FnOnce(E) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        move |err| Self::sdk(operation, err)
    }

    /// The operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            AdapterError::MemberRoleDenied { .. } => "AssumeRole",
            AdapterError::Service { operation, .. }
            | AdapterError::Transport { operation, .. }
            | AdapterError::Request { operation, .. }
            | AdapterError::MissingField { operation, .. } => operation,
        }
    }

    /// The service's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AdapterError::Service { code, .. } | AdapterError::MemberRoleDenied { code, .. } => {
                Some(code)
            }
            _ => None,
        }
    }

    /// True for failures a later retry may get past (throttling, timeouts, 5xx, network): a Lambda
    /// invocation should fail so that EventBridge retries it.
    pub fn is_transient(&self) -> bool {
        match self {
            AdapterError::Service { code, .. } => {
                THROTTLING_CODES.contains(&code.as_str())
                    || matches!(
                        code.as_str(),
                        "InternalError" | "InternalFailure" | "ServiceUnavailable" | "Unavailable"
                    )
            }
            AdapterError::Transport { .. } => true,
            AdapterError::Request { .. }
            | AdapterError::MemberRoleDenied { .. }
            | AdapterError::MissingField { .. } => false,
        }
    }

    /// True when the service said the named resource does not exist (`*.NotFound`, `*NotFound*`).
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| c.contains("NotFound"))
    }
}

/// `Some(value)` or [`AdapterError::MissingField`].
pub(crate) fn required<T>(
    value: Option<T>,
    operation: &'static str,
    field: &'static str,
) -> Result<T, AdapterError> {
    value.ok_or(AdapterError::MissingField { operation, field })
}
