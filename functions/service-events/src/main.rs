//! The `service-events` Lambda: re-evaluates on ECS API calls (CreateService, UpdateService,
//! DeleteService, reachguard tags) and ECS's own events (tasks failing to start, failed
//! deployments).
//!
//! Wiring only: logs, configuration ([`Settings`], failing at start-up with the variable's
//! name), the SDK configuration and the guard (its clients and its own role, learned once per
//! cold start), then the runtime loop. What an event means and what is done about it is
//! [`reachguard_pipeline::guard`]'s.

use lambda_runtime::{LambdaEvent, service_fn};
use reachguard_pipeline::lambda::{deadline, init_tracing};
use reachguard_pipeline::{Env, Guard, Settings};
use reachguard_shared::aws::ClientSettings;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = Settings::from_env(&Env::process())?;
    let guard = &Guard::start(settings, ClientSettings::default().load().await).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        guard.handle(event.payload, deadline(&event.context))
    }))
    .await
}
