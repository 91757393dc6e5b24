//! An SNS topic with SQS queues subscribed to it (envelope and raw delivery), to read what the
//! notifier published.

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use crate::Account;

/// A topic and two subscribed queues.
#[derive(Debug)]
pub struct Topic {
    /// The topic ARN.
    pub arn: String,
    /// Queue receiving the SNS JSON envelope.
    pub envelope_queue: String,
    /// Queue receiving raw messages (`RawMessageDelivery`).
    pub raw_queue: String,
}

impl Topic {
    /// Creates `name` and its queues in `account`.
    pub async fn create(account: &Account, name: &str) -> Topic {
        let sns = account.sns();
        let arn = create_topic(account, name).await;
        let mut queues = Vec::new();
        for (suffix, raw) in [("envelope", false), ("raw", true)] {
            let (url, queue_arn) = queue(account, &format!("{name}-{suffix}")).await;
            let sub = sns
                .subscribe()
                .topic_arn(&arn)
                .protocol("sqs")
                .endpoint(queue_arn)
                .send()
                .await
                .expect("Subscribe")
                .subscription_arn
                .expect("subscription arn");
            if raw {
                sns.set_subscription_attributes()
                    .subscription_arn(sub)
                    .attribute_name("RawMessageDelivery")
                    .attribute_value("true")
                    .send()
                    .await
                    .expect("SetSubscriptionAttributes");
            }
            queues.push(url);
        }
        let raw_queue = queues.pop().expect("raw queue");
        let envelope_queue = queues.pop().expect("envelope queue");
        Topic {
            arn,
            envelope_queue,
            raw_queue,
        }
    }
}

/// Creates the topic `name`, with no subscription; returns its ARN.
pub async fn create_topic(account: &Account, name: &str) -> String {
    account
        .sns()
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic arn")
}

async fn queue(account: &Account, name: &str) -> (String, String) {
    let url = create(account, name).await;
    let arn = attribute(account, &url, QueueAttributeName::QueueArn)
        .await
        .expect("queue arn");
    (url, arn)
}

/// Creates the queue `name`; returns its URL.
pub async fn create(account: &Account, name: &str) -> String {
    account
        .sqs()
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("queue url")
}

/// The attribute `name` of the queue at `queue_url`.
pub async fn attribute(
    account: &Account,
    queue_url: &str,
    name: QueueAttributeName,
) -> Option<String> {
    account
        .sqs()
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&name))
        .cloned()
}

/// Every message waiting in `queue_url` (one short poll after another until empty).
pub async fn drain(account: &Account, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = account.sqs();
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage");
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        for m in &batch {
            if let Some(handle) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
        all.extend(batch);
    }
}
