//! Remediation: which action fixes a finding ([`plans`]), whether it is safe ([`safety`]: the
//! action is simulated on a copy of the model and refused when any currently working path
//! would break), and what to do about a set of findings ([`decision`]: mode, allow-list, plan,
//! outcome). Applying actions is the EC2 adapter's job (`aws::remediate`).

pub mod decision;
pub mod plans;
pub mod safety;

pub use decision::{
    ActionReport, Mode, Outcome, PlannedAction, Rehearsal, RemediationPolicy, client_token, decide,
    outcome_transition, plan,
};
pub use plans::{
    associate_gateway_endpoint, create_gateway_endpoint, create_interface_endpoint, service_name,
};
pub use safety::{check_safety, simulate};
