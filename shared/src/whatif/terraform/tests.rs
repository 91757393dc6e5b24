//! Table tests of plans applied to small snapshots.
