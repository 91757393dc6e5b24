//! `slack-notify` as a real Lambda: an SNS delivery of a reachguard notification becomes one
//! Block Kit post to the webhook whose URL is in Secrets Manager (moto); Slack's 429 with
//! `Retry-After` is honoured; the URL never reaches the logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reachguard_shared::evaluate::evaluate;
use reachguard_shared::model::Topology;
use reachguard_shared::notification::{Notification, Transition, Trigger};
use reachguard_shared::snapshot::Snapshot;
use reachguard_tests::http::{Response, Server};
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, REGION};
use serde_json::{Value, json};

/// The notifications of the bundled broken example, as the event functions would send them.
fn notifications() -> Vec<Notification> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/broken-vpc.json");
    let text = std::fs::read_to_string(path).expect("examples/broken-vpc.json");
    let snapshot: Snapshot = serde_json::from_str(&text).expect("snapshot");
    let report = evaluate(&Topology::from_snapshot(&snapshot).expect("topology"));
    let trigger = Trigger {
        event_name: Some("DeleteVpcEndpoints".into()),
        event_id: Some("evt-1".into()),
    };
    Notification::group(
        "111122223333",
        "us-east-1",
        &trigger,
        report
            .findings
            .iter()
            .cloned()
            .map(Transition::opened)
            .collect(),
    )
}

fn sns_event(account: &str, messages: &[String]) -> Value {
    let topic = format!("arn:aws:sns:{REGION}:{account}:findings");
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": format!("{topic}:0f1e2d3c-{i}"),
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("msg-{i}"),
                    "TopicArn": topic,
                    "Subject": "[critical] reachguard",
                    "Message": message,
                    "Timestamp": "2026-11-26T14:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {"severity": {"Type": "String", "Value": "critical"}}
                }
            })
        })
        .collect();
    json!({"Records": records})
}

#[tokio::test]
async fn notifications_are_posted_as_block_kit_and_429_is_retried_after_retry_after() {
    // A webhook receiver on loopback: the first post is rate limited, the rest accepted.
    let posts: Arc<Mutex<Vec<(Instant, String, Value)>>> = Arc::default();
    let received = posts.clone();
    let receiver = Server::start(move |request| {
        let received = received.clone();
        async move {
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let mut posts = received.lock().expect("posts");
            posts.push((Instant::now(), request.path.clone(), body));
            if posts.len() == 1 {
                Response::new(429, "rate_limited").header("retry-after", "1")
            } else {
                Response::new(200, "ok")
            }
        }
    })
    .await;
    let secret_token = "T000/B000/s3cr3tT0k3n";
    let url = format!("http://{}/services/{secret_token}", receiver.addr);

    let account = Account::new().await;
    let arn = account
        .slack_secret(&json!({"webhook_url": url}).to_string())
        .await;
    let mut env = account.cli_env();
    env.push(("REACHGUARD_SLACK_SECRET_ARN", arn));
    let lambda = Lambda::start("slack-notify", &env).await;

    let notification = notifications().into_iter().next().expect("a notification");
    let started = Instant::now();
    let response = lambda
        .invoke(&sns_event(&account.id, &[notification.json()]))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(response, json!({"posted": 1, "rejected": 0}));

    let posts = posts.lock().expect("posts").clone();
    assert_eq!(posts.len(), 2, "one 429, then the retry");
    assert!(
        posts[1].0 - posts[0].0 >= Duration::from_millis(950),
        "Retry-After: 1 honoured"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(posts[0].2, posts[1].2, "the same message is retried");
    assert_eq!(posts[1].1, format!("/services/{secret_token}"));

    let message = &posts[1].2;
    assert_eq!(message["text"], notification.subject().as_str());
    let blocks = message["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], notification.subject().as_str());
    let sections: Vec<&Value> = blocks.iter().filter(|b| b["type"] == "section").collect();
    assert_eq!(sections.len(), notification.transitions.len());
    for (section, transition) in sections.iter().zip(&notification.transitions) {
        let text = section["text"]["text"].as_str().expect("mrkdwn");
        let finding = &transition.finding;
        assert!(
            text.contains(&finding.severity.as_str().to_uppercase()),
            "{text}"
        );
        assert!(text.contains(finding.rule.as_str()), "{text}");
        assert!(text.contains("— opened"), "{text}");
        assert!(
            text.contains(&format!("*Why:* {}", finding.message)),
            "{text}"
        );
        assert!(text.contains("*Fix:* "), "{text}");
        if let Some(subnet) = &finding.subnet {
            assert!(text.contains(&format!("*Subnet:* `{subnet}`")), "{text}");
        }
        if finding.service.is_some() {
            assert!(text.contains("*Service:* `"), "{text}");
        }
        let link = section["accessory"]["url"].as_str().expect("console link");
        assert!(
            link.starts_with("https://us-east-1.console.aws.amazon.com/"),
            "{link}"
        );
    }
    let footer = blocks.last().expect("footer");
    assert_eq!(footer["type"], "context");
    let context = footer["elements"][0]["text"].as_str().expect("context");
    assert!(context.contains("111122223333") && context.contains("DeleteVpcEndpoints (evt-1)"));

    // The webhook URL is a secret: not in any log line.
    let logs = lambda.logs();
    assert!(!logs.contains(secret_token), "{logs}");
    assert!(logs.contains("Slack post retried"), "{logs}");
}

#[tokio::test]
async fn what_is_not_a_notification_is_skipped_and_a_dead_webhook_fails_the_invocation() {
    // Every post fails with a 503: after the bounded retries the invocation fails (SNS retries).
    let posts: Arc<Mutex<usize>> = Arc::default();
    let counted = posts.clone();
    let receiver = Server::start(move |_| {
        let counted = counted.clone();
        async move {
            *counted.lock().expect("count") += 1;
            Response::new(503, "down").header("retry-after", "0")
        }
    })
    .await;
    let account = Account::new().await;
    let arn = account
        .slack_secret(&format!("http://{}/services/x", receiver.addr))
        .await;
    let mut env = account.cli_env();
    env.push(("REACHGUARD_SLACK_SECRET_ARN", arn));
    let lambda = Lambda::start("slack-notify", &env).await;

    let response = lambda
        .invoke(&sns_event(&account.id, &["hello".to_owned()]))
        .await
        .expect("nothing to post is a success");
    assert_eq!(response, json!({"posted": 0, "rejected": 1}));
    assert_eq!(*posts.lock().expect("count"), 0);

    let notification = notifications().into_iter().next().expect("a notification");
    let error = lambda
        .invoke(&sns_event(&account.id, &[notification.json()]))
        .await
        .expect_err("a dead webhook fails the invocation");
    assert_eq!(error["errorType"], "Retryable", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("503"))
    );
    assert_eq!(
        *posts.lock().expect("count"),
        slack_notify::MAX_ATTEMPTS as usize,
        "bounded"
    );
}
