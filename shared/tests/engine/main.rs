//! The core crate's integration tests, one binary: property tests of the engine and the event
//! intake, the intake against real and authored event fixtures, the EventBridge patterns against
//! them, and the layering of the crate.

mod docs;
mod engine_props;
mod intake_fixtures;
mod intake_proptest;
mod layering;
mod patterns;
mod whatif;
