//! The connectivity model: the snapshot document validated, normalised (states, route targets,
//! ports, CIDRs) and indexed so that every lookup during evaluation is a hash probe.
//!
//! It owns the meaning of AWS's shapes (what "associated", "available" or "main" mean); it does
//! not decide reachability ([`crate::paths`]) or compliance ([`crate::rules`]).

mod lower;

pub use lower::*;
