//! The `slack-notify` Lambda's handler: subscribed to the findings topic, it posts each
//! notification to a Slack incoming webhook as a Block Kit message.
//!
//! - [`blocks`]: what a notification looks like in Slack;
//! - [`webhook`]: the HTTPS POST, its timeout and its retries (then the invocation fails, so SNS
//!   retries it);
//! - this module: the configuration and the handler wiring them.
//!
//! The webhook URL is a secret: it is read once per cold start from Secrets Manager
//! (`REACHGUARD_SLACK_SECRET_ARN`, through [`reachguard_shared::aws::Secrets`]) and never logged.

pub mod blocks;
pub mod webhook;

use aws_lambda_events::sns::SnsEvent;
use reachguard_pipeline::{ConfigError, Env, Failure};
use reachguard_shared::aws::{SecretError, Secrets};
use reachguard_shared::notification::Notification;
use serde_json::{Value, json};

pub use webhook::{ATTEMPT_TIMEOUT, MAX_ATTEMPTS, MAX_WAIT, Webhook};

/// The function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `REACHGUARD_SLACK_SECRET_ARN`: the secret holding the webhook URL (required).
    pub secret_arn: String,
}

impl Config {
    /// Reads the configuration; an error names the variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Config, ConfigError> {
        Ok(Config {
            secret_arn: env.required("REACHGUARD_SLACK_SECRET_ARN")?,
        })
    }
}

/// Why the webhook could not be set up (at start-up).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The secret could not be read or holds no usable URL (its value is never printed).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// No TLS roots could be loaded.
    #[error("TLS set-up: {0}")]
    Tls(#[from] std::io::Error),
}

/// The webhook whose URL is in the secret `config.secret_arn`.
pub async fn webhook_from_secret(
    config: &Config,
    secrets: &Secrets,
) -> Result<Webhook, WebhookError> {
    let url = secrets.webhook_url(&config.secret_arn).await?;
    Ok(Webhook::new(url)?)
}

/// Posts every notification of an SNS event. Records that are not reachguard notifications are
/// logged and skipped (a retry cannot help); a post that fails after its retries fails the
/// invocation.
pub async fn handle(webhook: &Webhook, event: Value) -> Result<Value, Failure> {
    let event: SnsEvent = match serde_json::from_value(event) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(error = %error, "not an SNS event: rejected");
            return Ok(json!({"posted": 0, "rejected": 1}));
        }
    };
    let (mut posted, mut rejected) = (0, 0);
    for record in &event.records {
        let message_id = &record.sns.message_id;
        let notification: Notification = match serde_json::from_str(&record.sns.message) {
            Ok(n) => n,
            Err(error) => {
                tracing::error!(message_id = %message_id, error = %error, "not a reachguard notification: skipped");
                rejected += 1;
                continue;
            }
        };
        let attempts = webhook.post(&blocks::message(&notification)).await.inspect_err(|failure| {
            tracing::error!(message_id = %message_id, vpc = %notification.vpc, error = %failure, "Slack post failed");
        })?;
        tracing::info!(message_id = %message_id, vpc = %notification.vpc, transitions = notification.transitions.len(), attempts, "posted to Slack");
        posted += 1;
    }
    Ok(json!({"posted": posted, "rejected": rejected}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SNS delivery of `messages`, as Lambda passes it.
    fn sns_event(messages: &[&str]) -> Value {
        let records: Vec<Value> = messages
            .iter()
            .map(|message| {
                json!({
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": "arn:aws:sns:us-east-1:111122223333:findings:0f1e",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": "msg-1",
                        "TopicArn": "arn:aws:sns:us-east-1:111122223333:findings",
                        "Subject": null,
                        "Message": message,
                        "Timestamp": "2026-11-26T14:00:00.000Z",
                        "SignatureVersion": "1",
                        "Signature": "EXAMPLE",
                        "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                        "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                        "MessageAttributes": {}
                    }
                })
            })
            .collect();
        json!({"Records": records})
    }

    #[tokio::test]
    async fn what_is_not_a_notification_is_counted_and_never_posted() {
        // Nothing listens on the discard port: a post would fail the invocation.
        let webhook = Webhook::new("http://127.0.0.1:9/services/x".into()).expect("client");
        let cases = [
            (
                json!({"detail-type": "Scheduled Event"}),
                json!({"posted": 0, "rejected": 1}),
            ),
            (
                json!({"Records": [{"Sns": {"Message": "{}"}}]}),
                json!({"posted": 0, "rejected": 1}),
            ),
            (sns_event(&[]), json!({"posted": 0, "rejected": 0})),
            (
                sns_event(&["hello", "{}"]),
                json!({"posted": 0, "rejected": 2}),
            ),
        ];
        for (event, expected) in cases {
            let answer = handle(&webhook, event.clone()).await;
            assert_eq!(answer.ok(), Some(expected), "{event}");
        }
    }

    #[test]
    fn the_secret_arn_is_required() {
        let config = Config::from_env(&Env::from_pairs(&[(
            "REACHGUARD_SLACK_SECRET_ARN",
            "arn:s",
        )]));
        assert_eq!(config.ok().map(|c| c.secret_arn).as_deref(), Some("arn:s"));
        let missing = Config::from_env(&Env::from_pairs(&[])).expect_err("required");
        assert!(
            missing.to_string().contains("REACHGUARD_SLACK_SECRET_ARN"),
            "{missing}"
        );
    }
}
