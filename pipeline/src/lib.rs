//! reachguard's pipeline: what the Lambda functions and the CLI's live commands run, wiring the
//! core (`reachguard-shared`: model, rules, lifecycle, notifications, remediation decisions) to
//! the AWS adapters (`reachguard_shared::aws`). This crate names no AWS SDK type and depends on
//! no SDK crate: every AWS call is an adapter's.
//!
//! - [`settings`]: configuration from the environment ([`Env`], [`Settings`]);
//! - [`guard`]: event → intake decisions → collection → evaluation → lifecycle → remediation →
//!   one SNS message per VPC ([`Guard`]);
//! - [`remediation`]: remediation inside the guard, with the state table's attempt limits;
//! - [`deferral`]: evaluations handed to the sweep's work queue (whole regions, and VPCs with
//!   unsettled resources, later);
//! - [`scan`]: collect + evaluate, and a remediation run, for the CLI;
//! - [`security_hub`]: the Security Hub export of transitions (`REACHGUARD_SECURITY_HUB=true`);
//! - [`error`], [`failure`]: why an evaluation failed, and whether a retry can help;
//! - [`deadline`]: when the invocation ends, checked before each step;
//! - `lambda` (feature `lambda`): the Lambda runtime glue.
#![warn(missing_docs)]

pub mod deadline;
pub mod deferral;
pub mod error;
pub mod failure;
pub mod guard;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod remediation;
pub mod scan;
pub mod security_hub;
pub mod settings;

pub use deadline::Deadline;
pub use error::EvaluationError;
pub use failure::{Failure, Retry};
pub use guard::{AccountRegion, Evaluated, Guard, Handled};
pub use settings::{ConfigError, Env, Settings};
