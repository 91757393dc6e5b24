//! How a subnet reaches a dependency (RULES.md §2): which path captures the traffic (gateway
//! endpoint, interface endpoint with private DNS, else the default route), and whether that path
//! works (endpoint policy, security groups, NAT/IGW, network ACLs). Pure: reads a [`Topology`].
//!
//! Evaluation returns a compact [`Path`] of references; text is only built ([`Path::report`])
//! for the paths that end up in a finding.

mod judge;

pub use judge::*;
