//! The notifier: publishes [`Notification`]s to the findings topic, one SNS message per VPC
//! (or numbered parts of at most 262,144 bytes each), with `MessageStructure=json` and the
//! message attributes filter policies select on, and says per message whether SNS accepted it.
//! What the message says is [`crate::notification`]'s business.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sns::types::MessageAttributeValue;
use futures::{StreamExt, stream};

use super::error::AdapterError;
use crate::notification::{Attribute, MAX_MESSAGE_BYTES, Notification};

/// VPC notifications published at once.
pub const CONCURRENCY: usize = 8;

/// Publishes to one topic.
#[derive(Debug, Clone)]
pub struct Notifier {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Notifier {
    /// A notifier for `topic_arn` (`REACHGUARD_TOPIC_ARN`).
    pub fn new(config: &SdkConfig, topic_arn: impl Into<String>) -> Self {
        Notifier {
            sns: aws_sdk_sns::Client::new(config),
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes one message: `notification` (or a part of one) with `attributes`; returns the
    /// SNS message id.
    async fn publish(
        &self,
        notification: &Notification,
        attributes: &BTreeMap<&'static str, Attribute>,
    ) -> Result<String, AdapterError> {
        let mut request = self
            .sns
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .subject(notification.subject())
            .message(notification.message());
        for (name, attribute) in attributes {
            let value = MessageAttributeValue::builder()
                .data_type(attribute.data_type)
                .string_value(&attribute.value)
                .build()
                .map_err(|e| AdapterError::Request {
                    operation: "Publish",
                    detail: e.to_string(),
                })?;
            request = request.message_attributes(*name, value);
        }
        let out = request.send().await.map_err(AdapterError::of("Publish"))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Publishes one notification per VPC, each within SNS's size limit (in numbered parts when
    /// it does not fit one message: [`Notification::parts`]), the VPCs at most [`CONCURRENCY`]
    /// at once, each VPC's parts in order. Every part is tried whatever happened to the others;
    /// the result says, per part, whether SNS accepted it.
    pub async fn publish_all(&self, notifications: &[Notification]) -> Vec<Published> {
        let per_vpc: Vec<Vec<Published>> = stream::iter(notifications)
            .map(|whole| async move {
                let attributes = whole.attributes();
                let mut published = Vec::new();
                for part in whole.parts(MAX_MESSAGE_BYTES) {
                    let result = self.publish(&part, &attributes).await;
                    if let Err(error) = &result {
                        tracing::error!(vpc = %part.vpc, part = ?part.part, error = %error, "publish failed");
                    }
                    published.push(Published { part, result });
                }
                published
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        per_vpc.into_iter().flatten().collect()
    }
}

/// What became of one message: the notification (or part) and its SNS message id, or why SNS
/// did not accept it.
#[derive(Debug)]
pub struct Published {
    /// What the message carried.
    pub part: Notification,
    /// The SNS message id.
    pub result: Result<String, AdapterError>,
}
