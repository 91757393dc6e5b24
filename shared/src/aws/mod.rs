//! The AWS SDK adapters (feature `aws`): the only place where SDK types appear.
//!
//! - [`clients`]: SDK configuration (default credential chain, member accounts through STS
//!   AssumeRole, retry, timeouts);
//! - [`collect`]: builds a [`crate::snapshot::Snapshot`] for one account/region, whole or scoped,
//!   with one paginated `Describe*` per resource type;
//! - [`metrics`]: NAT gateway metrics from CloudWatch (`GetMetricData`), best-effort;
//! - [`notify`]: publishes the notifications [`crate::notification`] builds, one per VPC;
//! - [`remediate`]: applies remediation plans (RULES.md §4), idempotently, never deleting;
//! - [`scan`]: collect + evaluate (+ notify), the live counterpart of `check`;
//! - `guard` and `lambda` (feature `lambda`): the Lambda functions' pipeline and glue;
//! - [`AdapterError`]: a failed call, naming the operation and the service's code and message.
//!
//! Everything here converts SDK shapes into the crate's own document and model types at the edge:
//! no rule, finding or notification ever sees an SDK type.

pub mod clients;
pub mod collect;
mod convert;
mod error;
#[cfg(feature = "lambda")]
pub mod guard;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod metrics;
pub mod notify;
pub mod remediate;
pub mod scan;
pub mod state;

pub use clients::{Accounts, ClientSettings, MemberRole};
pub use collect::{ApiCalls, Collection, Collector, Scope, is_whole, vpc_scope};
pub use error::AdapterError;
pub use metrics::MetricsDays;
pub use notify::Notifier;
pub use remediate::{Mode, Outcome, Policy, Remediation, Remediator};
pub use scan::{Scan, ScanError, scan, scan_and_notify};
pub use state::StateTable;
