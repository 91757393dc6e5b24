//! SQS: the sweep's work queue (one message per account/region to evaluate, or per VPC to
//! re-evaluate later).

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::{Deserialize, Serialize};

use super::collect::{Scope, vpc_scope};
use super::error::AdapterError;
use crate::notification::Trigger;

/// `SendMessageBatch` takes at most ten entries.
const SEND_BATCH: usize = 10;

/// One unit of sweep work, the body of a work-queue message: a whole account/region (the
/// sweep's fan-out, or an event whose scope is the whole region), or some of its VPCs (a
/// re-evaluation once unsettled resources have settled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The scheduled event's id, to tie a sweep's items together in the logs.
    #[serde(default)]
    pub sweep: Option<String>,
    /// Only these VPCs (absent: the whole account/region).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub vpcs: BTreeSet<String>,
    /// The event that asked for the evaluation, named in its notifications (absent: the sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// How many re-evaluations of unsettled resources this one follows (absent: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub recheck: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl WorkItem {
    /// What to evaluate: the item's VPCs, or the whole account/region.
    pub fn scope(&self) -> Scope {
        if self.vpcs.is_empty() {
            Scope::account_region()
        } else {
            vpc_scope(self.vpcs.iter().cloned())
        }
    }
}

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

    /// Sends one work item, delivered after `delay_seconds` (SQS's `DelaySeconds`, at most 900;
    /// 0: at once). Returns the message id.
    pub async fn send(&self, item: &WorkItem, delay_seconds: u32) -> Result<String, AdapterError> {
        let request = |detail: String| AdapterError::Request {
            operation: "SendMessage",
            detail,
        };
        let body = serde_json::to_string(item).map_err(|e| request(e.to_string()))?;
        let delay = i32::try_from(delay_seconds)
            .map_err(|_| request(format!("DelaySeconds {delay_seconds} is out of range")))?;
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(AdapterError::of("SendMessage"))?;
        Ok(out.message_id.unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn work_items_keep_the_sweep_format_and_add_only_what_they_hold() {
        let sweep = WorkItem {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            sweep: Some("e-1".into()),
            ..WorkItem::default()
        };
        let text = serde_json::to_value(&sweep).expect("json");
        assert_eq!(
            text,
            json!({"account": "111122223333", "region": "eu-west-1", "sweep": "e-1"})
        );
        assert!(sweep.scope().account_region);
        let recheck: WorkItem = serde_json::from_value(json!({
            "account": "111122223333", "region": "eu-west-1", "vpcs": ["vpc-1"],
            "trigger": {"event_name": "CreateNatGateway", "event_id": "e-2"}, "recheck": 2}))
        .expect("item");
        assert_eq!(recheck.recheck, 2);
        assert_eq!(recheck.scope(), vpc_scope(["vpc-1"]));
        assert_eq!(
            serde_json::from_value::<WorkItem>(serde_json::to_value(&recheck).expect("json"))
                .expect("item"),
            recheck
        );
    }
}
