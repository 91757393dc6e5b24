//! reachguard's core: does every ECS service's subnet reach the AWS services it depends on, and
//! does it reach them the way the AWS guidance recommends?
//!
//! The crate is layered so that the rules stay pure; each layer uses only the ones above it (a
//! test, `layering` in `shared/tests/`, keeps the module graph acyclic):
//! - vocabulary, leaf modules: [`names`], [`rule_id`] (rule ids with their severity and
//!   subject, severities, subject fields), [`action`] (remediation actions), [`net`], [`tags`],
//!   [`partition`] (the `arn:<partition>:` of a region or a caller);
//! - [`snapshot`]: the AWS-CLI-shaped input document (what `check` reads, what `snapshot` writes);
//! - [`model`]: that document validated and indexed for lookups;
//! - [`deps`], [`policy`], [`paths`]: what a service needs and how a subnet reaches it;
//! - [`finding`], [`evaluation`] (what the rules share), [`remediation`] (which action fixes a
//!   finding, its safety check, and the decisions of a remediation run);
//! - [`rules`]: one module per rule, and [`evaluate`] to run them into a [`evaluate::Report`];
//! - [`notification`], [`lifecycle`]: what is announced, and when; [`asff`]: findings in AWS
//!   Security Hub's format (ASFF) with their lifecycle state, and its import limits;
//! - [`map`], [`report`]: the per-VPC connectivity map (SVG, DOT, Mermaid) and the HTML report;
//! - [`nat_metrics`], [`settings`]: CloudWatch figures of NAT gateways, what they cost, and the
//!   thresholds and rates of the measured `nat-*` rules;
//! - [`settling`]: NAT gateways and endpoints caught mid-transition (`pending`, `deleting`), and
//!   the findings that exist only because of them;
//! - [`intake`]: what an EC2/ECS API event means for re-evaluation;
//! - [`whatif`]: the findings a change or a Terraform plan would open and resolve;
//! - `aws` (feature `aws`): the SDK adapters that collect, notify, remediate and keep state —
//!   nothing else. The pipeline that wires them for the Lambdas and the CLI is the
//!   `reachguard-pipeline` crate.
//! - [`rule_docs`], [`schema`]: the rule reference and the JSON Schemas generated into `docs/`;
#![warn(missing_docs)]

pub mod account;
pub mod action;
pub mod asff;
#[cfg(feature = "aws")]
pub mod aws;

pub mod deps;
pub mod error;
pub mod evaluate;
pub mod evaluation;
pub mod finding;
pub mod intake;
pub mod lifecycle;
pub mod map;
pub mod model;
pub mod names;
pub mod nat_metrics;
pub mod net;
pub mod notification;
pub mod partition;
pub mod paths;
pub mod policy;
pub mod remediation;
pub mod report;
pub mod rule_docs;
pub mod rule_id;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod settling;
pub mod snapshot;
pub mod tags;
#[cfg(test)]
mod testing;
pub mod text;
pub mod whatif;
