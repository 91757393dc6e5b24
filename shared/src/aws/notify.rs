//! The notifier: publishes [`Notification`]s to the findings topic, one SNS message per VPC,
//! with `MessageStructure=json` and the message attributes filter policies select on. What the
//! message says is [`crate::notification`]'s business.

use aws_config::SdkConfig;
use aws_sdk_sns::types::MessageAttributeValue;

use super::error::AdapterError;
use crate::notification::Notification;

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

    /// Publishes one notification; returns the SNS message id.
    pub async fn publish(&self, notification: &Notification) -> Result<String, AdapterError> {
        let mut request = self
            .sns
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .subject(notification.subject())
            .message(notification.message());
        for (name, attribute) in notification.attributes() {
            let value = MessageAttributeValue::builder()
                .data_type(attribute.data_type)
                .string_value(attribute.value)
                .build()
                .map_err(|e| AdapterError::Request {
                    operation: "Publish",
                    detail: e.to_string(),
                })?;
            request = request.message_attributes(name, value);
        }
        let out = request.send().await.map_err(AdapterError::of("Publish"))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Publishes each notification in turn, stopping at the first failure (the caller fails the
    /// invocation, and the lifecycle knows which were sent).
    pub async fn publish_all(
        &self,
        notifications: &[Notification],
    ) -> Result<Vec<String>, AdapterError> {
        let mut ids = Vec::with_capacity(notifications.len());
        for n in notifications {
            ids.push(self.publish(n).await?);
        }
        Ok(ids)
    }
}
