//! Error types of the core crate, one enum per boundary.

/// A snapshot file that cannot be evaluated. Nothing is evaluated when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON at all (or truncated).
    #[error("not valid JSON: {0}")]
    Syntax(#[source] serde_json::Error),
    /// JSON, but a member has the wrong shape.
    #[error("{path}: {reason}")]
    Shape {
        /// JSON path of the offending member, e.g. `Subnets[3].CidrBlock`.
        path: String,
        /// What was expected.
        reason: String,
    },
}
