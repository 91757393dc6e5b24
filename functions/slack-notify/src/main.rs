//! The `slack-notify` Lambda: posts each reachguard notification of the findings topic to Slack
//! (see the crate's library).
//!
//! Wiring only: logs, configuration (failing at start-up with the variable's name), the webhook
//! URL read once from Secrets Manager and the HTTPS client, then the runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use reachguard_pipeline::Env;
use reachguard_pipeline::lambda::init_tracing;
use reachguard_shared::aws::ClientSettings;
use serde_json::Value;
use slack_notify::{Config, Webhook};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env(&Env::process())?;
    let webhook = &Webhook::from_secret(&config, &ClientSettings::default().load().await).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        slack_notify::handle(webhook, event.payload)
    }))
    .await
}
