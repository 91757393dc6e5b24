//! SQS: the sweep's work queue (one message per account/region to evaluate).

use aws_config::SdkConfig;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::error::AdapterError;

/// `SendMessageBatch` takes at most ten entries.
const SEND_BATCH: usize = 10;

/// A queue messages are sent to.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    /// The queue at `url`, through a client using `config`.
    pub fn new(config: &SdkConfig, url: impl Into<String>) -> Self {
        WorkQueue {
            client: aws_sdk_sqs::Client::new(config),
            url: url.into(),
        }
    }

    /// Sends every body, ten per `SendMessageBatch`. A batch with failed entries stops the
    /// sending with an error naming how many failed and the first one's code: a failure SQS
    /// blames on the sender is not transient (`SenderFault`), any other is (resending the
    /// whole set is harmless when the consumers are idempotent).
    pub async fn send_all(&self, bodies: &[String]) -> Result<usize, AdapterError> {
        for chunk in bodies.chunks(SEND_BATCH) {
            let mut request = self.client.send_message_batch().queue_url(&self.url);
            for (index, body) in chunk.iter().enumerate() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| AdapterError::Request {
                        operation: "SendMessageBatch",
                        detail: e.to_string(),
                    })?;
                request = request.entries(entry);
            }
            let out = request
                .send()
                .await
                .map_err(AdapterError::of("SendMessageBatch"))?;
            if let Some(failed) = out.failed().first() {
                let message = format!(
                    "{} of {} entries failed: {}: {}",
                    out.failed().len(),
                    chunk.len(),
                    failed.code,
                    failed.message().unwrap_or_default()
                );
                return Err(if failed.sender_fault {
                    AdapterError::Service {
                        operation: "SendMessageBatch",
                        code: "SenderFault".into(),
                        message,
                    }
                } else {
                    AdapterError::Transport {
                        operation: "SendMessageBatch",
                        detail: message,
                    }
                });
            }
        }
        Ok(bodies.len())
    }
}
