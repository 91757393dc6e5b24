//! The `reachguard` binary's tests, one binary: offline commands on the bundled examples, and the
//! live commands against moto.

mod asff;
mod live;
mod offline;
mod report;
mod util;
mod whatif;
