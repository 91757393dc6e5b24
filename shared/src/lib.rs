//! reachguard's core: does every ECS service's subnet reach the AWS services it depends on, and
//! does it reach them the way the AWS guidance recommends?
//!
//! The crate is layered so that the rules stay pure:
//! - [`snapshot`]: the AWS-CLI-shaped input document (what `check` reads, what `snapshot` writes);
//! - [`model`]: that document validated and indexed for lookups;
//! - [`deps`], [`paths`]: what a service needs and how a subnet reaches it (RULES.md §1–2);
//! - [`rules`]: the rules (RULES.md §3, and the measured `nat-*` rules), one module each, and
//!   [`evaluate`] to run them with [`settings`];
//! - [`nat_metrics`]: CloudWatch figures of NAT gateways and what they cost;
//! - [`remediation`]: the plans of RULES.md §4 and their safety check;
//! - [`intake`]: what an EC2/ECS API event means for re-evaluation;
//! - `aws` (feature `aws`): the SDK adapters that collect, notify and remediate.
#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod deps;
pub mod error;
pub mod evaluate;
pub mod finding;
pub mod intake;
pub mod lifecycle;
pub mod model;
pub mod nat_metrics;
pub mod net;
pub mod notification;
pub mod paths;
pub mod policy;
pub mod remediation;
pub mod rules;
pub mod settings;
pub mod snapshot;
pub mod tags;
