//! The Slack incoming webhook: one HTTPS POST per message, retried on Slack's rate limiting (429),
//! server errors (5xx), connection failures and silence (no answer within [`ATTEMPT_TIMEOUT`]),
//! honouring `Retry-After`, at most [`MAX_ATTEMPTS`] times and never waiting more than
//! [`MAX_WAIT`] at once. Slack's other 4xx answers never get better and are not retried.
//!
//! The URL carries the secret token: it is never logged, and [`Webhook`]'s `Debug` hides it.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reachguard_pipeline::{Failure, Retry};
use reachguard_shared::text::truncate;
use serde_json::Value;

/// Attempts per message, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
/// The longest single wait between attempts (a longer `Retry-After` is cut to this).
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// How long one attempt (connect, send, read the whole answer) may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of Slack's error answer a failure quotes.
const MAX_QUOTED_ANSWER: usize = 200;

/// A Slack incoming webhook: its URL (secret) and an HTTPS client.
pub struct Webhook {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    attempt_timeout: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &"<secret>")
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

/// What one attempt came to, when it was not a success.
enum Attempt {
    /// Worth another attempt (429, 5xx, no connection, no answer in time), after the wait Slack
    /// asked for, if it did.
    Retry {
        problem: String,
        retry_after: Option<Duration>,
    },
    /// Never worth another attempt.
    GiveUp(Failure),
}

impl Webhook {
    /// A webhook posting to `url`, each attempt bounded by [`ATTEMPT_TIMEOUT`].
    pub fn new(url: String) -> Result<Webhook, std::io::Error> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(
                Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            )?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Webhook {
            url,
            client,
            attempt_timeout: ATTEMPT_TIMEOUT,
        })
    }

    /// Posts `message`, retrying as the module says. Returns the number of attempts it took.
    pub async fn post(&self, message: &Value) -> Result<u32, Failure> {
        let body = Bytes::from(message.to_string());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (problem, retry_after) = match self.attempt(body.clone()).await {
                Ok(()) => return Ok(attempt),
                Err(Attempt::GiveUp(failure)) => return Err(failure),
                Err(Attempt::Retry {
                    problem,
                    retry_after,
                }) => (problem, retry_after),
            };
            if attempt >= MAX_ATTEMPTS {
                return Err(Failure::new(
                    Retry::Retryable,
                    format!("{problem}; gave up after {attempt} attempts"),
                ));
            }
            let wait = retry_after
                .unwrap_or_else(|| Duration::from_millis(500 << attempt))
                .min(MAX_WAIT);
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, problem = %problem, "Slack post retried");
            tokio::time::sleep(wait).await;
        }
    }

    /// One POST, bounded by the attempt timeout.
    async fn attempt(&self, body: Bytes) -> Result<(), Attempt> {
        let request = Request::post(self.url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| {
                Attempt::GiveUp(Failure::new(
                    Retry::NonRetryable,
                    format!("Slack request: {e}"),
                ))
            })?;
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let retry_after = retry_after(&response);
            let text = response
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default();
            Ok::<_, hyper_util::client::legacy::Error>((status, retry_after, text))
        };
        let (status, retry_after, text) =
            match tokio::time::timeout(self.attempt_timeout, exchange).await {
                Ok(Ok(answer)) => answer,
                // The error's text names the host, not the path that carries the secret token.
                Ok(Err(error)) => {
                    return Err(Attempt::Retry {
                        problem: format!("Slack unreachable: {error}"),
                        retry_after: None,
                    });
                }
                Err(_) => {
                    return Err(Attempt::Retry {
                        problem: format!(
                            "Slack did not answer within {} s",
                            self.attempt_timeout.as_secs_f32()
                        ),
                        retry_after: None,
                    });
                }
            };
        if status.is_success() {
            Ok(())
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(Attempt::Retry {
                problem: format!("Slack answered {status}"),
                retry_after,
            })
        } else {
            // Slack's 4xx (invalid_blocks, no_service, …) never get better.
            Err(Attempt::GiveUp(Failure::new(
                Retry::NonRetryable,
                format!(
                    "Slack answered {status}: {}",
                    truncate(&text, MAX_QUOTED_ANSWER)
                ),
            )))
        }
    }
}

/// The answer's `Retry-After` in seconds (Slack never sends the HTTP-date form).
fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_silent_webhook_times_out_and_is_retried() {
        // The first connection is accepted and never answered; the second is answered 200.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (silent, _) = listener.accept().await.expect("first connection");
            let (mut answered, _) = listener.accept().await.expect("second connection");
            let mut request = [0; 4096];
            let read = answered.read(&mut request).await.expect("request");
            answered
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .expect("answer");
            drop(silent);
            String::from_utf8_lossy(&request[..read]).into_owned()
        });
        let mut webhook = Webhook::new(format!("http://{addr}/services/T/B/x")).expect("client");
        webhook.attempt_timeout = Duration::from_millis(200);

        let attempts =
            tokio::time::timeout(Duration::from_secs(5), webhook.post(&json!({"text": "hi"})))
                .await
                .expect("the silent attempt was cut off");

        assert_eq!(attempts.ok(), Some(2));
        let request = server.await.expect("server");
        assert!(request.starts_with("POST /services/T/B/x "), "{request}");
    }

    #[test]
    fn the_url_is_not_in_debug_output() {
        let webhook =
            Webhook::new("https://hooks.slack.com/services/T/B/s3cr3t".into()).expect("client");
        assert!(!format!("{webhook:?}").contains("s3cr3t"));
    }
}
