//! The end-to-end tests, one binary (linking the AWS SDK once instead of once per file): the
//! adapters against moto, the Lambda functions as real binaries on a loopback Runtime API, and
//! the templates.

mod accounts;
mod collect;
mod faults;
mod lambdas;
mod large;
mod lifecycle;
mod notify;
mod remediate;
mod slack;
mod template;
