//! The `sweep` Lambda: the scheduled re-evaluation of every configured account and region, fanned
//! out through an SQS work queue that the same function consumes (see the crate's library).
//!
//! Wiring only: logs, configuration (failing at start-up with the variable's name), the SDK
//! configuration, the guard and the sweep's clients (built once per cold start), then the
//! runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use reachguard_pipeline::lambda::init_tracing;
use reachguard_pipeline::{Env, Guard, Settings};
use reachguard_shared::aws::ClientSettings;
use serde_json::Value;
use sweep::{Config, Sweep};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let env = Env::process();
    let (settings, config) = (Settings::from_env(&env)?, Config::from_env(&env)?);
    let home = ClientSettings::default().load().await;
    let sweep = &Sweep::new(config, Guard::start(settings, home.clone()).await?, &home);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        sweep::handle(sweep, event.payload)
    }))
    .await
}
