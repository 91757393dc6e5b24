//! The secrets reader: one `GetSecretValue`, and the Slack webhook URL found in its value. The
//! value is a secret: no error, log line or `Debug` output here ever includes it.

use aws_config::SdkConfig;
use serde_json::Value;

use super::error::{AdapterError, required};

/// Why no webhook URL could be read from a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `GetSecretValue` failed, or its answer has no string value.
    #[error(transparent)]
    Aws(#[from] AdapterError),
    /// The secret's value holds no usable URL (the value itself is never printed).
    #[error("secret {arn}: {reason}; store the URL, or JSON {{\"webhook_url\": \"https://…\"}}")]
    Unusable {
        /// The secret's ARN (or name).
        arn: String,
        /// What is wrong with its value.
        reason: &'static str,
    },
}

/// Reads Secrets Manager secrets of one account and region.
#[derive(Debug, Clone)]
pub struct Secrets {
    client: aws_sdk_secretsmanager::Client,
}

impl Secrets {
    /// A reader with the clients' shared configuration.
    pub fn new(config: &SdkConfig) -> Self {
        Secrets {
            client: aws_sdk_secretsmanager::Client::new(config),
        }
    }

    /// The current string value of the secret `arn` (an ARN or a name).
    pub async fn string(&self, arn: &str) -> Result<String, AdapterError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(AdapterError::of("GetSecretValue"))?;
        required(out.secret_string, "GetSecretValue", "SecretString")
    }

    /// The webhook URL held by the secret `arn`: see [`webhook_url`].
    pub async fn webhook_url(&self, arn: &str) -> Result<String, SecretError> {
        webhook_url(&self.string(arn).await?).map_err(|reason| SecretError::Unusable {
            arn: arn.to_owned(),
            reason,
        })
    }
}

/// The webhook URL in a secret string: the string itself, or the `webhook_url` (else `url`)
/// string member of a JSON object; surrounding whitespace is ignored. The error says what is
/// wrong without quoting the value.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_read_from_a_bare_string_or_json() {
        let url = "https://hooks.slack.com/services/T/B/x";
        let cases = [
            (url.to_owned(), Ok(url)),
            (format!(" {url}\n"), Ok(url)),
            (format!(r#"{{"webhook_url": "{url}"}}"#), Ok(url)),
            (format!(r#"{{"url": " {url} "}}"#), Ok(url)),
            (
                format!(r#"{{"webhook_url": "{url}", "url": "http://other"}}"#),
                Ok(url),
            ),
            (
                "http://127.0.0.1:8080/hook".to_owned(),
                Ok("http://127.0.0.1:8080/hook"),
            ),
            (
                r#"{"token": "x"}"#.to_owned(),
                Err("the secret's JSON has no webhook_url or url string member"),
            ),
            (
                r#"{"webhook_url": 42}"#.to_owned(),
                Err("the secret's JSON has no webhook_url or url string member"),
            ),
            (
                "xoxb-not-a-url".to_owned(),
                Err("the secret is not an http(s) URL"),
            ),
            (
                r#"["https://x"]"#.to_owned(),
                Err("the secret is not an http(s) URL"),
            ),
            (String::new(), Err("the secret is not an http(s) URL")),
        ];
        for (secret, expected) in cases {
            assert_eq!(
                webhook_url(&secret),
                expected.map(str::to_owned),
                "{secret:?}"
            );
        }
    }

    #[test]
    fn errors_never_quote_the_secret() {
        let secret = "xoxb-s3cr3t";
        let error = SecretError::Unusable {
            arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:slack".into(),
            reason: webhook_url(secret).expect_err("not a URL"),
        };
        let text = error.to_string();
        assert!(!text.contains(secret), "{text}");
        assert!(
            text.contains("secret:slack") && text.contains("webhook_url"),
            "{text}"
        );
    }
}
