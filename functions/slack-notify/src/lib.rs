//! The `slack-notify` Lambda's handler: subscribed to the findings topic, it posts each
//! notification to a Slack incoming webhook as a Block Kit message — per transition the severity,
//! the rule and its status, the service and subnet, the *why*, the *fix* (or what was done) and a
//! link to the resource in the AWS console.
//!
//! The webhook URL is a secret: it is read once per cold start from Secrets Manager
//! (`REACHGUARD_SLACK_SECRET_ARN`; the secret string is the URL, or a JSON object with a
//! `webhook_url` or `url` member) and never logged. Slack's rate limiting (429) and server errors
//! (5xx) are retried, honouring `Retry-After`, at most [`MAX_ATTEMPTS`] times and never waiting
//! more than [`MAX_WAIT`] at once; then the invocation fails, so SNS retries it.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reachguard_pipeline::{ConfigError, Env, Failure, Retry};
use reachguard_shared::aws::AdapterError;
use reachguard_shared::finding::Finding;
use reachguard_shared::notification::{Notification, Transition};
use reachguard_shared::text::shorten;
use serde::Deserialize;
use serde_json::{Value, json};

/// Attempts per message, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
/// The longest single wait between attempts (a longer `Retry-After` is cut to this).
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Slack accepts at most 50 blocks per message; the header and footer take three.
const MAX_TRANSITION_BLOCKS: usize = 45;

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
    /// Reading the secret failed.
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// The secret holds no usable URL (its value is never printed).
    #[error("secret {arn}: {reason}")]
    BadSecret {
        /// The secret's ARN.
        arn: String,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// No TLS roots could be loaded.
    #[error("TLS set-up: {0}")]
    Tls(#[from] std::io::Error),
}

/// A Slack incoming webhook: its URL (secret) and an HTTPS client.
pub struct Webhook {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &"<secret>").finish()
    }
}

impl Webhook {
    /// Reads the URL from the secret `config.secret_arn` and builds the client.
    pub async fn from_secret(
        config: &Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Webhook, WebhookError> {
        let secret = aws_sdk_secretsmanager::Client::new(sdk)
            .get_secret_value()
            .secret_id(&config.secret_arn)
            .send()
            .await
            .map_err(AdapterError::of("GetSecretValue"))?;
        let url = secret
            .secret_string()
            .ok_or("the secret has no string value")
            .and_then(webhook_url)
            .map_err(|reason| WebhookError::BadSecret {
                arn: config.secret_arn.clone(),
                reason,
            })?;
        Webhook::new(url)
    }

    /// A webhook posting to `url`.
    pub fn new(url: String) -> Result<Webhook, WebhookError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(
                Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            )?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Webhook { url, client })
    }

    /// Posts `message`, retrying 429 and 5xx answers (and connection failures) as the module
    /// says. Returns the number of attempts it took.
    pub async fn post(&self, message: &Value) -> Result<u32, Failure> {
        let body = Bytes::from(message.to_string());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = Request::post(self.url.as_str())
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(body.clone()))
                .map_err(|e| Failure::new(Retry::NonRetryable, format!("Slack request: {e}")))?;
            let (problem, wait) = match self.client.request(request).await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                        .unwrap_or_default();
                    if status.is_success() {
                        return Ok(attempt);
                    }
                    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                        // Slack's 4xx (invalid_blocks, no_service, …) never get better.
                        return Err(Failure::new(
                            Retry::NonRetryable,
                            format!("Slack answered {status}: {}", shorten(&text, 200)),
                        ));
                    }
                    (format!("Slack answered {status}"), retry_after)
                }
                // The error's text names the host, not the path that carries the secret token.
                Err(error) => (format!("Slack unreachable: {error}"), None),
            };
            if attempt >= MAX_ATTEMPTS {
                return Err(Failure::new(
                    Retry::Retryable,
                    format!("{problem}; gave up after {attempt} attempts"),
                ));
            }
            let wait = wait
                .unwrap_or_else(|| Duration::from_millis(500 << attempt))
                .min(MAX_WAIT);
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, problem = %problem, "Slack post retried");
            tokio::time::sleep(wait).await;
        }
    }
}

/// The webhook URL in a secret string: the string itself, or the `webhook_url`/`url` member of
/// a JSON object. Errors never include the value.
pub fn webhook_url(secret: &str) -> Result<String, &'static str> {
    let secret = secret.trim();
    let url = match serde_json::from_str::<Value>(secret) {
        Ok(Value::Object(members)) => members
            .get("webhook_url")
            .or_else(|| members.get("url"))
            .and_then(Value::as_str)
            .ok_or("the secret's JSON has no webhook_url or url string member")?
            .trim()
            .to_owned(),
        _ => secret.to_owned(),
    };
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err("the secret is not an http(s) URL")
    }
}

/// An SNS delivery to Lambda, as far as this function reads it.
#[derive(Debug, Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsMessage,
}

#[derive(Debug, Deserialize)]
struct SnsMessage {
    #[serde(rename = "MessageId", default)]
    message_id: String,
    #[serde(rename = "Message")]
    message: String,
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
        let notification: Notification = match serde_json::from_str(&record.sns.message) {
            Ok(n) => n,
            Err(error) => {
                tracing::error!(message_id = %record.sns.message_id, error = %error, "not a reachguard notification: skipped");
                rejected += 1;
                continue;
            }
        };
        let attempts = webhook.post(&message(&notification)).await.inspect_err(|failure| {
            tracing::error!(message_id = %record.sns.message_id, vpc = %notification.vpc, error = %failure, "Slack post failed");
        })?;
        tracing::info!(message_id = %record.sns.message_id, vpc = %notification.vpc, transitions = notification.transitions.len(), attempts, "posted to Slack");
        posted += 1;
    }
    Ok(json!({"posted": posted, "rejected": rejected}))
}

/// The Block Kit message of one notification: a header (the subject), per transition a section
/// with a console button, then the account/region/trigger as context.
pub fn message(n: &Notification) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": shorten(&n.subject(), 150), "emoji": true}
    })];
    for t in n.transitions.iter().take(MAX_TRANSITION_BLOCKS) {
        blocks.push(transition_block(n, t));
    }
    if n.transitions.len() > MAX_TRANSITION_BLOCKS {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!(
                "…and {} more: see the email or the findings JSON.",
                n.transitions.len() - MAX_TRANSITION_BLOCKS
            )}
        }));
    }
    let trigger = match (&n.trigger.event_name, &n.trigger.event_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(name), None) => name.clone(),
        _ => "scheduled sweep".to_owned(),
    };
    blocks.push(json!({"type": "divider"}));
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!(
            "account `{}` · region `{}` · {} · triggered by {}",
            n.account, n.region, n.vpc, trigger
        )}]
    }));
    json!({"text": n.subject(), "blocks": blocks})
}

fn transition_block(n: &Notification, t: &Transition) -> Value {
    let f = &t.finding;
    let mut text = format!(
        "{} *{}* `{}` — {}\n",
        emoji(f.severity.as_str()),
        f.severity.as_str().to_uppercase(),
        f.rule.as_str(),
        t.status.as_str()
    );
    if let Some(service) = &f.service {
        text.push_str(&format!("*Service:* `{}`\n", short_service(service)));
    }
    if let Some(subnet) = &f.subnet {
        let az = f
            .availability_zone
            .as_deref()
            .map(|az| format!(" ({az})"))
            .unwrap_or_default();
        text.push_str(&format!("*Subnet:* `{subnet}`{az}\n"));
    }
    text.push_str(&format!("*What:* {}\n", f.subject_text()));
    text.push_str(&format!("*Why:* {}\n", f.message));
    if f.remediation.is_empty() {
        text.push_str("*Fix:* manual (reachguard does not change this automatically)\n");
    }
    for action in &f.remediation {
        text.push_str(&format!(
            "*Fix:* {} [`{}`]\n",
            action.describe(),
            action.name()
        ));
    }
    if let Some(r) = &t.remediation {
        text.push_str(&format!(
            "*Done:* {} {}: {}\n",
            r.action, r.outcome, r.detail
        ));
    }
    json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": shorten(&text, 3000)},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in console"},
            "url": console_url(&n.region, f),
        }
    })
}

fn emoji(severity: &str) -> &'static str {
    match severity {
        "critical" => ":red_circle:",
        "high" => ":large_orange_circle:",
        "medium" => ":large_yellow_circle:",
        _ => ":white_circle:",
    }
}

/// `cluster/name` of a service ARN (`arn:aws:ecs:r:a:service/cluster/name`).
fn short_service(arn: &str) -> &str {
    arn.split_once(":service/").map_or(arn, |(_, rest)| rest)
}

/// The console page of the finding's most specific subject: the ECS service, else the endpoint,
/// subnet, route table, NAT gateway or ACL, else the VPC.
pub fn console_url(region: &str, f: &Finding) -> String {
    let base = format!("https://{region}.console.aws.amazon.com");
    if let Some(service) = &f.service
        && let Some((cluster, name)) = short_service(service).split_once('/')
    {
        return format!("{base}/ecs/v2/clusters/{cluster}/services/{name}/health?region={region}");
    }
    let vpc = |fragment: String| format!("{base}/vpcconsole/home?region={region}#{fragment}");
    if let Some(id) = &f.endpoint {
        return vpc(format!("EndpointDetails:vpcEndpointId={id}"));
    }
    if let Some(id) = &f.subnet {
        return vpc(format!("SubnetDetails:subnetId={id}"));
    }
    if let Some(id) = &f.route_table {
        return vpc(format!("RouteTableDetails:RouteTableId={id}"));
    }
    if let Some(id) = &f.nat_gateway {
        return vpc(format!("NatGatewayDetails:natGatewayId={id}"));
    }
    if let Some(id) = &f.network_acl {
        return vpc(format!("NetworkAclDetails:networkAclId={id}"));
    }
    vpc(format!("VpcDetails:VpcId={}", f.vpc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_from_secret_strings() {
        let url = "https://hooks.slack.com/services/T/B/x";
        assert_eq!(webhook_url(url).as_deref(), Ok(url));
        assert_eq!(
            webhook_url(&format!(r#"{{"webhook_url": "{url}"}}"#)).as_deref(),
            Ok(url)
        );
        assert_eq!(
            webhook_url(&format!(r#"{{"url": " {url} "}}"#)).as_deref(),
            Ok(url)
        );
        assert!(webhook_url(r#"{"token": "x"}"#).is_err());
        assert!(webhook_url("xoxb-not-a-url").is_err());
    }

    #[test]
    fn services_are_shortened_and_linked() {
        let arn = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";
        assert_eq!(short_service(arn), "prod/api");
        let mut f: Finding = serde_json::from_value(json!({
            "rule": "unreachable-dependency", "severity": "critical", "account": null,
            "region": "eu-west-1", "vpc": "vpc-1", "service": arn, "subnet": "subnet-1",
            "dependency": "s3", "endpoint": null, "route_table": null, "nat_gateway": null,
            "network_acl": null, "availability_zone": "eu-west-1a", "destination": null,
            "message": "m", "remediation": []
        }))
        .expect("finding");
        assert_eq!(
            console_url("eu-west-1", &f),
            "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/api/health?region=eu-west-1"
        );
        f.service = None;
        assert!(console_url("eu-west-1", &f).ends_with("#SubnetDetails:subnetId=subnet-1"));
        f.subnet = None;
        assert!(console_url("eu-west-1", &f).ends_with("#VpcDetails:VpcId=vpc-1"));
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
