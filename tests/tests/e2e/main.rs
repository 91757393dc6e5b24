//! The end-to-end tests, one binary (linking the AWS SDK once instead of once per file): the
//! adapters against moto, the Lambda functions as real binaries on a loopback Runtime API, and
//! the templates.

mod accounts;
mod collect;
mod deferral;
mod delivery;
mod faults;
mod iam;
mod lambdas;
mod large;
mod lifecycle;
mod notify;
mod remediate;
mod resilience;
mod security_hub;
mod slack;
mod template;
