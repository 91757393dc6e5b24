//! The event intake: what an EC2/ECS API call or ECS event means for
//! re-evaluation. It owns decoding the input ([`decode`]), the trigger catalog and the
//! EventBridge patterns rendered from it ([`catalog`]), classifying each event into
//! "evaluate this scope" or "ignore, because…" ([`classify`], [`scope`]) and the loop guard
//! ([`loop_guard`]). It does no I/O and never calls AWS: resolving a scope (e.g. a subnet's VPC)
//! is the collector's job.
//!
//! ```
//! use reachguard_shared::intake::{self, Decision, LoopGuard};
//!
//! let record = br#"{"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute",
//!     "awsRegion": "eu-west-1", "requestParameters": {"routeTableId": "rtb-0a1b2c3d"}}"#;
//! let decisions = intake::decide(record, &LoopGuard::default()).expect("an event");
//! assert!(matches!(&decisions[..], [Decision::Evaluate { scope, .. }]
//!     if scope.route_tables.contains("rtb-0a1b2c3d")));
//! ```
pub mod catalog;
pub mod classify;
pub mod decode;
pub mod loop_guard;
pub mod scope;

pub use catalog::{CatalogEntry, TRIGGERS, event_patterns};
pub use classify::{Decision, IgnoreReason, classify};
pub use decode::{Event, IntakeError, decode, decode_value};
pub use loop_guard::{GuardMatch, LoopGuard, parse_principal_list};
pub use scope::Scope;

/// Decodes `input` and classifies each of its events, in input order.
pub fn decide(input: &[u8], guard: &LoopGuard) -> Result<Vec<Decision>, IntakeError> {
    Ok(decode(input)?
        .iter()
        .map(|event| classify(event, guard))
        .collect())
}
