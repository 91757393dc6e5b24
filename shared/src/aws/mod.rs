//! The AWS SDK adapters (feature `aws`): the only place where SDK types appear.
//!
//! - [`clients`]: SDK configuration (default credential chain, member accounts through STS
//!   AssumeRole, retry, timeouts);
//! - [`collect`]: builds a [`crate::snapshot::Snapshot`] for one account/region, whole or scoped,
//!   with one paginated `Describe*` per resource type;
//! - [`metrics`]: NAT gateway metrics from CloudWatch (`GetMetricData`), best-effort;
//! - [`notify`]: publishes the notifications [`crate::notification`] builds, one per VPC;
//! - [`remediate`]: the EC2 executor of remediation plans, idempotent, never deleting;
//! - [`state`]: the finding lifecycle's DynamoDB table;
//! - [`organizations`]: the organisation's active accounts; [`queue`]: the sweep's work queue;
//! - [`secrets`]: reads a Secrets Manager secret (the Slack webhook URL), never logging its value;
//! - [`security_hub`]: imports ASFF findings into Security Hub (`BatchImportFindings`);
//! - [`AdapterError`]: a failed call, naming the operation and the service's code and message.
//!
//! The pipeline that wires these for the Lambdas and the CLI is the `reachguard-pipeline`
//! crate; it names no SDK type but passes [`SdkConfig`] handles between adapters.
//!
//! Everything here converts SDK shapes into the crate's own document and model types at the edge:
//! no rule, finding or notification ever sees an SDK type.

pub mod clients;
pub mod collect;
mod convert;
mod error;
pub mod metrics;
pub mod notify;
pub mod organizations;
pub mod queue;
pub mod remediate;
pub mod secrets;
pub mod security_hub;
pub mod state;

/// The SDK configuration of one account and region, as the adapters take it.
pub use aws_config::SdkConfig;

pub use clients::{Accounts, ClientSettings, MemberRole};
pub use collect::{ApiCalls, Collection, Collector, Scope, is_whole, vpc_scope};
pub use error::AdapterError;
pub use metrics::MetricsDays;
pub use notify::Notifier;
pub use organizations::Organization;
pub use queue::WorkQueue;
pub use remediate::Remediator;
pub use secrets::{SecretError, Secrets};
pub use security_hub::SecurityHub;
pub use state::StateTable;
