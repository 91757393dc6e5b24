//! The `slack-notify` Lambda: posts each reachguard notification of the findings topic to Slack
//! (see the crate's library).
//!
//! Wiring only: logs, configuration (failing at start-up with the variable's name), the webhook
//! URL read once from Secrets Manager and the HTTPS client, then the runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use reachguard_pipeline::Env;
use reachguard_pipeline::lambda::init_tracing;
use reachguard_shared::aws::{ClientSettings, Secrets};
use serde_json::Value;
use slack_notify::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env(&Env::process())?;
    let secrets = Secrets::new(&ClientSettings::default().load().await);
    let webhook = &slack_notify::webhook_from_secret(&config, &secrets).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        slack_notify::handle(webhook, event.payload)
    }))
    .await
}
