//! Durable announcement (issue 10 §1–3): a transition claimed in the state table is announced
//! at least once whatever fails between the claim and SNS — a failed publish, a second
//! invocation in between, a remediation recorded in between, the process killed — and exactly
//! once when nothing outlives its deadline; a VPC published is never sent again because another
//! failed; and every message stays within SNS's 256 KB. Faults come from the proxy in front of
//! moto (`reachguard_tests::proxy`), which also enforces SNS's size limit.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use reachguard_pipeline::guard::AccountRegion;
use reachguard_pipeline::{Deadline, Env, Evaluated, EvaluationError, Guard, Retry, Settings};
use reachguard_shared::aws::{ClientSettings, Notifier, Scope, SdkConfig, vpc_scope};
use reachguard_shared::finding::Finding;
use reachguard_shared::notification::{
    MAX_MESSAGE_BYTES, Notification, Status, Transition, Trigger,
};
use reachguard_shared::rule_id::RuleId;
use reachguard_tests::proxy::{Fail, FaultProxy, Plan};
use reachguard_tests::queue::{Topic, drain};
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, moto_url, seed};
use serde_json::{Value, json};

use crate::lambdas::available_s3_endpoints;

const TABLE: &str = "reachguard-state";

/// The SDK's attempts per call (`ClientSettings::max_attempts`): a publish failing this many
/// times fails the evaluation.
const ATTEMPTS: usize = 6;

/// A guard over `config` with the state table, publishing to `topic`, in `mode`.
async fn guard(config: &SdkConfig, topic: &Topic, mode: &str) -> Guard {
    let env = [
        ("REACHGUARD_TOPIC_ARN", topic.arn.as_str()),
        ("REACHGUARD_STATE_TABLE", TABLE),
        ("REACHGUARD_MODE", mode),
    ];
    let settings = Settings::from_env(&Env::from_pairs(&env)).expect("settings");
    Guard::start(settings, ClientSettings::default().apply(config))
        .await
        .expect("guard")
}

/// A proxy in front of moto following `plan`, and the account's configuration through it.
async fn through(account: &Account, plan: Plan) -> (FaultProxy, SdkConfig) {
    let proxy = FaultProxy::start(moto_url(), plan).await;
    let config = account.through(&proxy.url).await;
    (proxy, config)
}

/// `Publish` requests fail (a 503, after the SDK's retries) the first `times` times when their
/// body contains `containing`.
fn failing_publish(containing: &str, times: usize) -> Option<Fail> {
    Some(Fail {
        operation: "Publish".into(),
        containing: containing.into(),
        times,
    })
}

/// The notifications delivered to the raw queue since the last call: (VPC, statuses of the
/// transitions).
async fn delivered(account: &Account, topic: &Topic) -> Vec<(String, Vec<String>)> {
    let mut all: Vec<(String, Vec<String>)> = drain(account, &topic.raw_queue)
        .await
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("JSON");
            let statuses = body["transitions"]
                .as_array()
                .expect("transitions")
                .iter()
                .map(|t| t["status"].as_str().unwrap_or_default().to_owned())
                .collect();
            (
                body["vpc"].as_str().unwrap_or_default().to_owned(),
                statuses,
            )
        })
        .collect();
    all.sort();
    all
}

fn retryable(result: Result<impl std::fmt::Debug, EvaluationError>) -> EvaluationError {
    let error = result.expect_err("the evaluation fails");
    assert_eq!(error.retry(), Retry::Retryable, "{error}");
    error
}

/// An endpoint-only VPC whose S3 gateway endpoint was deleted: two `unreachable-dependency`
/// findings (ECR layers in S3 from both service subnets), remediable by re-creating it.
async fn without_s3_endpoint(account: &Account) -> seed::Seeded {
    let ep = seed::endpoint_only(account).await;
    account
        .ec2()
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(&ep.endpoints["s3"])
        .send()
        .await
        .expect("DeleteVpcEndpoints");
    ep
}

async fn state_and_topic(account: &Account) -> Topic {
    account.create_state_table(TABLE).await;
    Topic::create(account, "findings").await
}

/// An endpoint-only VPC without its S3 gateway endpoint, in an account with the state table and
/// the topic, and a guard in its mode whose first publish fails (after the SDK's retries).
struct FirstPublishFails {
    account: Account,
    ep: seed::Seeded,
    topic: Topic,
    guard: Guard,
    scope: Scope,
    _proxy: FaultProxy,
}

impl FirstPublishFails {
    async fn start(mode: &str) -> FirstPublishFails {
        let account = Account::new().await;
        let ep = without_s3_endpoint(&account).await;
        let topic = state_and_topic(&account).await;
        let plan = Plan {
            fail: failing_publish("", ATTEMPTS),
            ..Plan::default()
        };
        let (proxy, config) = through(&account, plan).await;
        let guard = guard(&config, &topic, mode).await;
        let scope = vpc_scope([ep.vpc.clone()]);
        FirstPublishFails {
            account,
            ep,
            topic,
            guard,
            scope,
            _proxy: proxy,
        }
    }

    /// One evaluation of the VPC.
    async fn evaluate(&self) -> Result<Evaluated, EvaluationError> {
        let target = AccountRegion::default();
        let trigger = Trigger::default();
        self.guard.evaluate(&target, &self.scope, &trigger).await
    }

    /// What the topic delivered since the last call ([`delivered`]).
    async fn delivered(&self) -> Vec<(String, Vec<String>)> {
        delivered(&self.account, &self.topic).await
    }
}

#[tokio::test]
async fn a_failed_publish_is_announced_once_by_the_retry() {
    let case = FirstPublishFails::start("notify").await;

    retryable(case.evaluate().await);
    assert_eq!(case.delivered().await, []);
    let retried = case.evaluate().await.expect("the retry");
    assert_eq!(retried.transitions, 2);
    assert_eq!(
        case.delivered().await,
        [(case.ep.vpc.clone(), vec!["opened".into(), "opened".into()])]
    );
    case.evaluate().await.expect("another evaluation");
    assert_eq!(case.delivered().await, [], "once");
}

#[tokio::test]
async fn a_second_invocation_between_claim_and_publish_leaves_the_claim_to_the_first() {
    let account = Account::new().await;
    let ep = without_s3_endpoint(&account).await;
    let topic = state_and_topic(&account).await;
    // The first invocation's publish waits until the second is done, then fails.
    let plan = Plan {
        hold: Some("Publish".into()),
        fail: failing_publish("", ATTEMPTS),
        ..Plan::default()
    };
    let (proxy, config) = through(&account, plan).await;
    let first = guard(&config, &topic, "notify").await;
    let second = guard(&account.config, &topic, "notify").await;
    let scope = vpc_scope([ep.vpc.clone()]);
    let target = AccountRegion::default();
    let trigger = Trigger::default();

    let (first_run, second_run) = tokio::join!(first.evaluate(&target, &scope, &trigger), async {
        proxy.requested("Publish").await;
        let done = second.evaluate(&target, &scope, &trigger).await;
        proxy.release_held();
        done
    });
    assert_eq!(
        second_run.expect("the second invocation").transitions,
        0,
        "the first holds the claim"
    );
    retryable(first_run);
    assert_eq!(delivered(&account, &topic).await, []);

    first
        .evaluate(&target, &scope, &trigger)
        .await
        .expect("the retry");
    assert_eq!(
        delivered(&account, &topic).await,
        [(ep.vpc.clone(), vec!["opened".into(), "opened".into()])],
        "announced by the retry, once"
    );
    second
        .evaluate(&target, &scope, &trigger)
        .await
        .expect("a later evaluation");
    assert_eq!(delivered(&account, &topic).await, []);
}

#[tokio::test]
async fn a_remediation_recorded_before_a_failed_publish_is_announced_as_remediated() {
    let case = FirstPublishFails::start("remediate").await;

    retryable(case.evaluate().await);
    assert_eq!(
        available_s3_endpoints(&case.account, &case.ep.vpc)
            .await
            .len(),
        1,
        "the endpoint was re-created (and the attempt recorded on the findings)"
    );
    assert_eq!(case.delivered().await, []);
    let retried = case.evaluate().await.expect("the retry");
    assert_eq!(retried.remediated, 0, "nothing is applied twice");
    assert_eq!(
        case.delivered().await,
        [(
            case.ep.vpc.clone(),
            vec!["remediated".into(), "remediated".into()]
        )]
    );
    case.evaluate().await.expect("another evaluation");
    assert_eq!(case.delivered().await, [], "once");
}

#[tokio::test]
async fn a_vpc_published_is_not_sent_again_when_another_failed() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let nat = seed::nat_only(&account).await;
    let topic = state_and_topic(&account).await;
    // The VPC notified second in id order fails (the order the previous code published in).
    let failing = broken.vpc.clone().max(nat.vpc.clone());
    let plan = Plan {
        fail: failing_publish(&failing, ATTEMPTS),
        ..Plan::default()
    };
    let (_proxy, config) = through(&account, plan).await;
    let guard = guard(&config, &topic, "notify").await;
    let (target, scope, trigger) = (
        AccountRegion::default(),
        Scope::account_region(),
        Trigger::default(),
    );
    let run = || guard.evaluate(&target, &scope, &trigger);

    retryable(run().await);
    let first: Vec<String> = delivered(&account, &topic)
        .await
        .into_iter()
        .map(|(vpc, _)| vpc)
        .collect();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_ne!(first[0], failing);
    run().await.expect("the retry");
    let retried: Vec<String> = delivered(&account, &topic)
        .await
        .into_iter()
        .map(|(vpc, _)| vpc)
        .collect();
    assert_eq!(retried, [failing], "only the VPC that was not published");
}

#[tokio::test]
async fn no_step_begins_without_time_to_record_it() {
    let account = Account::new().await;
    let ep = without_s3_endpoint(&account).await;
    let topic = state_and_topic(&account).await;
    let guard = guard(&account.config, &topic, "notify").await;
    let scope = vpc_scope([ep.vpc.clone()]);
    let soon = Deadline::at(SystemTime::now() + Duration::from_secs(1));
    let error = retryable(
        guard
            .evaluate_within(
                &AccountRegion::default(),
                &scope,
                &Trigger::default(),
                0,
                soon,
            )
            .await,
    );
    assert!(
        error.to_string().starts_with("stopped before collection"),
        "{error}"
    );
    assert_eq!(delivered(&account, &topic).await, []);
    let later = guard
        .evaluate(&AccountRegion::default(), &scope, &Trigger::default())
        .await
        .expect("with time");
    assert_eq!(later.transitions, 2, "nothing was claimed by the first");
}

/// The real `network-events` binary is killed while its SNS Publish is in flight (held by the
/// proxy): the next evaluation of the VPC, by a new process once the first one's deadline has
/// passed, announces what it had claimed.
#[tokio::test]
async fn a_claim_of_a_killed_invocation_is_announced_by_the_next_evaluation() {
    let account = Account::new().await;
    let ep = without_s3_endpoint(&account).await;
    let topic = state_and_topic(&account).await;
    let plan = Plan {
        hold: Some("Publish".into()),
        ..Plan::default()
    };
    let proxy = FaultProxy::start(moto_url(), plan).await;
    let env = |endpoint: &str| {
        let mut env = account.cli_env();
        env.retain(|(name, _)| *name != "AWS_ENDPOINT_URL");
        env.push(("AWS_ENDPOINT_URL", endpoint.to_owned()));
        env.push(("REACHGUARD_TOPIC_ARN", topic.arn.clone()));
        env.push(("REACHGUARD_STATE_TABLE", TABLE.to_owned()));
        env
    };
    let event = delete_s3_endpoint_event(&account.id, &ep.endpoints["s3"]);
    let timeout = Duration::from_secs(20);
    let started = std::time::Instant::now();
    let doomed = Lambda::start_with_timeout("network-events", &env(&proxy.url), timeout).await;
    tokio::select! {
        result = doomed.invoke(&event) => panic!("no publish was held: {result:?}\n{}", doomed.logs()),
        () = proxy.requested("Publish") => doomed.kill().await,
    }
    assert_eq!(delivered(&account, &topic).await, []);

    // Its deadline passes (Lambda would have stopped it by then): the claim is abandoned.
    tokio::time::sleep((timeout + Duration::from_secs(2)).saturating_sub(started.elapsed())).await;
    let next = Lambda::start("network-events", &env(moto_url())).await;
    let response = next
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", next.logs()));
    assert_eq!(response["evaluated"][0]["transitions"], 2, "{response}");
    assert_eq!(
        delivered(&account, &topic).await,
        [(ep.vpc.clone(), vec!["opened".into(), "opened".into()])]
    );
    next.invoke(&event).await.expect("once more");
    assert_eq!(delivered(&account, &topic).await, [], "once");
}

/// DeleteVpcEndpoints of `endpoint` by an administrator, as EventBridge delivers it.
fn delete_s3_endpoint_event(account: &str, endpoint: &str) -> Value {
    json!({
        "version": "0",
        "id": "e2e-delivery",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": account,
        "time": "2026-11-28T08:00:00Z",
        "region": reachguard_tests::REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": format!("arn:aws:sts::{account}:assumed-role/Admin/session"),
                "accountId": account,
                "sessionContext": {"sessionIssuer": {
                    "type": "Role", "arn": format!("arn:aws:iam::{account}:role/Admin"),
                    "accountId": account, "userName": "Admin"}}
            },
            "eventTime": "2026-11-28T08:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "DeleteVpcEndpoints",
            "awsRegion": reachguard_tests::REGION,
            "requestParameters": {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}},
            "responseElements": {"DeleteVpcEndpointsResponse": {"unsuccessful": ""}},
            "eventID": "evt-delivery",
            "readOnly": false,
            "eventType": "AwsApiCall",
            "recipientAccountId": account
        }
    })
}

/// `n` findings of one VPC, each with a message long enough that together they need several
/// SNS messages.
fn many_findings(account: &str, vpc: &str, n: usize) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            let mut f = Finding::new(
                RuleId::UnreachableDependency,
                Some(account),
                "us-east-1",
                vpc,
            );
            f.service = Some(format!(
                "arn:aws:ecs:us-east-1:{account}:service/prod/service-{i:03}"
            ));
            f.subnet = Some(format!("subnet-{i:017x}"));
            f.dependency = Some("ecr.dkr".into());
            f.message = format!(
                "service-{i:03}: {}",
                "the path breaks \"here\" \\ ".repeat(20)
            );
            f
        })
        .collect()
}

#[tokio::test]
async fn three_hundred_transitions_arrive_once_in_parts_within_the_limit() {
    let account = Account::new().await;
    let topic = Topic::create(&account, "findings").await;
    let (proxy, config) = through(&account, Plan::default()).await;
    let vpc = "vpc-0123456789abcdef0";
    let findings = many_findings(&account.id, vpc, 320);
    let notifications = Notification::group(
        &account.id,
        "us-east-1",
        &Trigger::default(),
        findings.iter().cloned().map(Transition::opened).collect(),
    );
    assert!(
        notifications[0].message().len() > MAX_MESSAGE_BYTES,
        "the test needs a notification larger than SNS takes"
    );

    let notifier = Notifier::new(&config, &topic.arn);
    let published = notifier.publish_all(&notifications).await;
    let parts = published.len();
    assert!(parts >= 2, "{parts}");
    let attributes: usize = notifications[0]
        .attributes()
        .iter()
        .map(|(name, a)| name.len() + a.data_type.len() + a.value.len())
        .sum();
    for p in &published {
        assert!(p.result.is_ok(), "{:?}", p.result);
        assert!(p.part.message().len() + attributes <= MAX_MESSAGE_BYTES);
    }
    assert_eq!(
        proxy.requests_for("Publish"),
        parts,
        "each part accepted at once"
    );

    // Read back: every part is a whole notification with the VPC's attributes, numbered.
    let raw = drain(&account, &topic.raw_queue).await;
    assert_eq!(raw.len(), parts);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut numbers = Vec::new();
    for m in &raw {
        let body: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("JSON");
        assert_eq!(body["vpc"], vpc);
        assert_eq!(body["part"]["of"], parts);
        numbers.push(body["part"]["number"].as_u64().expect("number"));
        let attrs = m.message_attributes().expect("attributes");
        assert_eq!(attrs["vpc"].string_value(), Some(vpc));
        assert_eq!(attrs["status"].string_value(), Some(r#"["opened"]"#));
        for t in body["transitions"].as_array().expect("transitions") {
            assert_eq!(t["status"], Status::Opened.as_str());
            let service = t["finding"]["service"].as_str().expect("service");
            *seen.entry(service.to_owned()).or_default() += 1;
        }
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=parts as u64).collect::<Vec<_>>());
    assert_eq!(seen.len(), 320, "every transition delivered");
    assert!(seen.values().all(|&n| n == 1), "each once");
    let subjects: Vec<String> = drain(&account, &topic.envelope_queue)
        .await
        .iter()
        .map(|m| {
            let envelope: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("JSON");
            envelope["Subject"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with(&format!(", part {parts}/{parts}"))),
        "{subjects:?}"
    );
}

#[tokio::test]
async fn the_proxy_refuses_a_message_over_the_limit_as_sns_does() {
    let account = Account::new().await;
    let topic = Topic::create(&account, "findings").await;
    let (_proxy, config) = through(&account, Plan::default()).await;
    // Under the limit alone, over it with the attributes: moto would take it, AWS would not.
    let body = "x".repeat(MAX_MESSAGE_BYTES - 10);
    let err = aws_sdk_sns::Client::new(&config)
        .publish()
        .topic_arn(&topic.arn)
        .message(body)
        .message_attributes(
            "vpc",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("vpc-0123456789abcdef0")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect_err("too long");
    let err = reachguard_shared::aws::AdapterError::sdk("Publish", err);
    assert_eq!(err.code(), Some("InvalidParameter"), "{err}");
}
