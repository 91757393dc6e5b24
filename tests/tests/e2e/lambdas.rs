//! The Lambda functions end to end, as real Lambdas: each test starts the real function binary
//! against a Lambda Runtime API on loopback (`reachguard_tests::runtime`), with moto as AWS,
//! feeds it real-shaped EventBridge events and asserts on what moto holds afterwards — the SNS
//! message delivered to an SQS queue subscribed to the topic, the remediation applied or not.

use std::time::Duration;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::queue::{self, Topic, drain};
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, REGION, inventory, seed};
use serde_json::{Value, json};

/// The function's environment: the account's credentials and moto endpoint, the topic, the mode.
pub(crate) fn env(account: &Account, topic: &Topic, mode: &str) -> Vec<(&'static str, String)> {
    let mut env = account.cli_env();
    env.push(("REACHGUARD_TOPIC_ARN", topic.arn.clone()));
    env.push(("REACHGUARD_MODE", mode.to_owned()));
    env
}

/// `env` with every AWS call going through `proxy`.
pub(crate) fn through(
    mut env: Vec<(&'static str, String)>,
    proxy: &FaultProxy,
) -> Vec<(&'static str, String)> {
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    env.push(("AWS_ENDPOINT_URL", proxy.url.clone()));
    env
}

/// The name of the sweep's work queue.
pub(crate) const WORK_QUEUE: &str = "sweep-work";

/// The SQS batch the sweep's worker receives for one work item, `body`, in message `message_id`.
pub(crate) fn work_item_batch(account: &Account, message_id: &str, body: &Value) -> Value {
    json!({"Records": [{
        "messageId": message_id, "receiptHandle": format!("r-{message_id}"),
        "body": body.to_string(), "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:{REGION}:{}:{WORK_QUEUE}", account.id),
        "awsRegion": REGION}]})
}

/// The summary the sweep's worker logs after a batch.
pub(crate) fn sweep_batch_summary(sweep: &Lambda) -> Value {
    sweep
        .log_records()
        .into_iter()
        .find(|r| r["fields"]["message"] == "sweep batch done")
        .unwrap_or_else(|| panic!("a summary:\n{}", sweep.logs()))
}

/// A CloudTrail record in its EventBridge envelope, as EventBridge delivers it.
pub(crate) fn api_call(
    account: &str,
    service: &str,
    event_name: &str,
    caller_role: &str,
    request: Value,
    response: Value,
) -> Value {
    json!({
        "version": "0",
        "id": format!("e2e-{event_name}-{account}"),
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{service}"),
        "account": account,
        "time": "2026-11-26T14:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:session",
                "arn": format!("arn:aws:sts::{account}:assumed-role/{caller_role}/session"),
                "accountId": account,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": "AROAEXAMPLE",
                        "arn": format!("arn:aws:iam::{account}:role/{caller_role}"),
                        "accountId": account,
                        "userName": caller_role
                    },
                    "attributes": {"creationDate": "2026-11-26T13:59:00Z", "mfaAuthenticated": "false"}
                }
            },
            "eventTime": "2026-11-26T14:00:00Z",
            "eventSource": format!("{service}.amazonaws.com"),
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.22.0",
            "requestParameters": request,
            "responseElements": response,
            "requestID": "11111111-2222-3333-4444-555555555555",
            "eventID": format!("evt-{event_name}-{account}"),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": account,
            "eventCategory": "Management"
        }
    })
}

/// The raw-delivery notifications in `topic`'s queue: (message attributes, notification JSON).
pub(crate) async fn notifications(account: &Account, topic: &Topic) -> Vec<(Value, Value)> {
    drain(account, &topic.raw_queue)
        .await
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), json!(v.string_value())))
                .collect();
            let body = serde_json::from_str(m.body().unwrap_or_default()).expect("notification");
            (Value::Object(attributes), body)
        })
        .collect()
}

pub(crate) fn strings(array_attribute: &Value) -> Vec<String> {
    serde_json::from_str(array_attribute.as_str().expect("String.Array")).expect("JSON array")
}

pub(crate) async fn delete_endpoint(account: &Account, endpoint: &str) {
    account
        .ec2()
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(endpoint)
        .send()
        .await
        .expect("DeleteVpcEndpoints");
}

pub(crate) fn delete_endpoints_event(account: &str, endpoint: &str, caller_role: &str) -> Value {
    api_call(
        account,
        "ec2",
        "DeleteVpcEndpoints",
        caller_role,
        json!({"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}}),
        json!({"DeleteVpcEndpointsResponse": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "unsuccessful": ""}}),
    )
}

/// CreateVpcEndpoint of the `kind` (`Gateway`, `Interface`) endpoint `endpoint` to this region's
/// `service` in `vpc`, by an administrator.
pub(crate) fn create_vpc_endpoint_event(
    account: &str,
    vpc: &str,
    kind: &str,
    service: &str,
    endpoint: &str,
) -> Value {
    api_call(
        account,
        "ec2",
        "CreateVpcEndpoint",
        "Admin",
        json!({"CreateVpcEndpointRequest": {"VpcId": vpc, "VpcEndpointType": kind,
               "ServiceName": format!("com.amazonaws.{REGION}.{service}")}}),
        json!({"CreateVpcEndpointResponse": {"vpcEndpoint": {"vpcEndpointId": endpoint,
               "vpcId": vpc}}}),
    )
}

pub(crate) async fn available_s3_endpoints(
    account: &Account,
    vpc: &str,
) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
    seed::endpoints_for(account, vpc, "s3")
        .await
        .into_iter()
        .filter(|e| {
            e.state()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("available"))
        })
        .collect()
}

/// CreateService of the seeded service `seeded` in `account`, by an administrator.
pub(crate) fn create_service_event(account: &str, seeded: &seed::Seeded) -> Value {
    let (cluster, name) = seeded
        .service_arn
        .rsplit_once(":service/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .expect("service/cluster/name");
    api_call(
        account,
        "ecs",
        "CreateService",
        "Admin",
        json!({"cluster": cluster, "serviceName": name, "desiredCount": 2, "launchType": "FARGATE",
               "networkConfiguration": {"awsvpcConfiguration": {
                   "subnets": seeded.subnets, "securityGroups": [seeded.task_security_group],
                   "assignPublicIp": "DISABLED"}}}),
        json!({"service": {"serviceArn": seeded.service_arn, "serviceName": name,
                           "clusterArn": format!("arn:aws:ecs:{REGION}:{account}:cluster/{cluster}"),
                           "status": "ACTIVE"}}),
    )
}

#[tokio::test]
async fn create_service_on_a_broken_subnet_in_a_member_account_notifies_once_per_vpc() {
    let home = Account::new().await;
    let member = Account::new().await;
    let broken = seed::broken(&member).await;
    let topic = Topic::create(&home, "findings").await;
    let mut env = env(&home, &topic, "notify");
    env.push(("REACHGUARD_MEMBER_ROLE", "reachguard-member".into()));
    env.push(("REACHGUARD_EXTERNAL_ID", "e2e".into()));
    let lambda = Lambda::start("service-events", &env).await;

    let event = create_service_event(&member.id, &broken);
    let before = inventory(&member).await;
    let response = lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(
        response["evaluated"][0]["account"],
        member.id.as_str(),
        "{response}"
    );

    let delivered = notifications(&home, &topic).await;
    assert_eq!(delivered.len(), 1, "one message per VPC: {delivered:?}");
    let (attributes, body) = &delivered[0];
    assert_eq!(attributes["severity"], "critical");
    assert_eq!(attributes["account"], member.id.as_str());
    assert_eq!(attributes["region"], REGION);
    assert_eq!(attributes["vpc"], broken.vpc.as_str());
    assert_eq!(strings(&attributes["status"]), ["opened"]);
    assert_eq!(
        strings(&attributes["rule"]),
        ["gateway-endpoint-not-associated", "unreachable-dependency"]
    );
    assert_eq!(body["trigger"]["event_name"], "CreateService");
    assert_eq!(
        body["trigger"]["event_id"],
        format!("evt-CreateService-{}", member.id)
    );
    let transitions = body["transitions"].as_array().expect("transitions");
    assert!(
        transitions
            .iter()
            .all(|t| t["status"] == "opened" && t.get("remediation").is_none())
    );
    assert!(
        transitions
            .iter()
            .any(|t| t["finding"]["dependency"] == "dynamodb"
                && t["finding"]["service"] == broken.service_arn.as_str())
    );
    // notify mode changes nothing, and the logs are Lambda's JSON.
    assert_eq!(inventory(&member).await, before);
    let records = lambda.log_records();
    assert!(
        records
            .iter()
            .any(|r| r["fields"]["message"] == "evaluated"),
        "{}",
        lambda.logs()
    );
    assert!(records.iter().all(|r| r.get("level").is_some()));
}

/// DeleteVpcEndpoints on the S3 gateway endpoint of a compliant VPC breaks image pulls (the ECR
/// layers are in S3). What each mode does about it.
async fn deleted_s3_endpoint(mode: &str) -> (Account, seed::Seeded, Vec<(Value, Value)>) {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let lambda = Lambda::start("network-events", &env(&account, &topic, mode)).await;
    let s3 = ep.endpoints["s3"].clone();
    delete_endpoint(&account, &s3).await;
    let response = lambda
        .invoke(&delete_endpoints_event(&account.id, &s3, "Admin"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(
        response["evaluated"].as_array().map(Vec::len),
        Some(1),
        "{response}"
    );
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}\n{}", lambda.logs());
    (account, ep, delivered)
}

pub(crate) fn s3_transitions(body: &Value) -> Vec<&Value> {
    body["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter(|t| {
            t["finding"]["rule"] == "unreachable-dependency" && t["finding"]["dependency"] == "s3"
        })
        .collect()
}

#[tokio::test]
async fn delete_vpc_endpoints_in_notify_mode_reports_and_changes_nothing() {
    let (account, ep, delivered) = deleted_s3_endpoint("notify").await;
    let (attributes, body) = &delivered[0];
    assert_eq!(attributes["severity"], "critical");
    assert_eq!(strings(&attributes["status"]), ["opened"]);
    let s3 = s3_transitions(body);
    assert_eq!(s3.len(), 2, "both service subnets: {body}");
    assert!(s3.iter().all(|t| t["status"] == "opened"
        && t["finding"]["remediation"][0]["action"] == "create-gateway-endpoint"));
    assert!(available_s3_endpoints(&account, &ep.vpc).await.is_empty());
}

#[tokio::test]
async fn delete_vpc_endpoints_in_dry_run_mode_plans_and_changes_nothing() {
    let (account, ep, delivered) = deleted_s3_endpoint("dry-run").await;
    let (attributes, body) = &delivered[0];
    assert_eq!(strings(&attributes["status"]), ["remediation-skipped"]);
    for t in s3_transitions(body) {
        assert_eq!(t["status"], "remediation-skipped");
        assert_eq!(t["remediation"]["action"], "create-gateway-endpoint");
        assert_eq!(t["remediation"]["outcome"], "planned");
    }
    assert!(available_s3_endpoints(&account, &ep.vpc).await.is_empty());
}

#[tokio::test]
async fn delete_vpc_endpoints_in_remediate_mode_recreates_the_gateway_endpoint() {
    let (account, ep, delivered) = deleted_s3_endpoint("remediate").await;
    let (attributes, body) = &delivered[0];
    assert_eq!(strings(&attributes["status"]), ["remediated"]);
    let s3 = s3_transitions(body);
    assert_eq!(s3.len(), 2, "{body}");
    for t in s3 {
        assert_eq!(t["status"], "remediated");
        assert_eq!(t["remediation"]["outcome"], "applied");
    }
    let created = available_s3_endpoints(&account, &ep.vpc).await;
    assert_eq!(created.len(), 1, "exactly one new endpoint: {created:?}");
    assert_eq!(
        created[0].route_table_ids(),
        std::slice::from_ref(&ep.route_table)
    );
    assert!(
        created[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("reachguard:created-by"))
    );
}

#[tokio::test]
async fn create_subnet_tagged_for_ecs_reports_a_subnet_not_ready() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let lambda = Lambda::start("network-events", &env(&account, &topic, "notify")).await;
    let subnet = account
        .ec2()
        .create_subnet()
        .vpc_id(&ep.vpc)
        .cidr_block("10.1.30.0/24")
        .availability_zone("us-east-1c")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Subnet)
                .tags(
                    Tag::builder()
                        .key("reachguard:workload")
                        .value("ecs")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateSubnet")
        .subnet
        .and_then(|s| s.subnet_id)
        .expect("subnet id");
    let event = api_call(
        &account.id,
        "ec2",
        "CreateSubnet",
        "Admin",
        json!({"vpcId": ep.vpc, "cidrBlock": "10.1.30.0/24", "availabilityZone": "us-east-1c",
               "tagSpecificationSet": {"items": [{"resourceType": "subnet",
                   "tags": [{"key": "reachguard:workload", "value": "ecs"}]}]}}),
        json!({"subnet": {"subnetId": subnet, "vpcId": ep.vpc, "state": "available",
                          "cidrBlock": "10.1.30.0/24", "availabilityZone": "us-east-1c"}}),
    );
    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let (attributes, body) = &delivered[0];
    assert_eq!(attributes["vpc"], ep.vpc.as_str());
    assert!(strings(&attributes["rule"]).contains(&"subnet-not-ready".to_owned()));
    let not_ready: Vec<&Value> = body["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter(|t| t["finding"]["rule"] == "subnet-not-ready")
        .collect();
    assert!(!not_ready.is_empty());
    assert!(
        not_ready
            .iter()
            .all(|t| t["finding"]["subnet"] == subnet.as_str())
    );
}

#[tokio::test]
async fn events_caused_by_the_guard_itself_do_nothing() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let mut env = env(&account, &topic, "remediate");
    env.push(("REACHGUARD_MEMBER_ROLE", "reachguard-member".into()));
    env.push((
        "REACHGUARD_IGNORE_PRINCIPALS",
        format!("arn:aws:iam::{}:role/reachguard-*", account.id),
    ));
    let lambda = Lambda::start("network-events", &env).await;
    let s3 = ep.endpoints["s3"].clone();
    delete_endpoint(&account, &s3).await;
    let before = inventory(&account).await;
    // The function's own role (the test account's credentials are the reachguard-test role),
    // the member role in another account, and an ignored principal.
    for caller in [
        "reachguard-test",
        "reachguard-member",
        "reachguard-sweep-us-east-1",
    ] {
        let from = if caller == "reachguard-member" {
            "999988887777"
        } else {
            account.id.as_str()
        };
        let mut event = delete_endpoints_event(from, &s3, caller);
        event["account"] = json!(account.id);
        let response = lambda
            .invoke(&event)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
        assert_eq!(response["evaluated"], json!([]), "{caller}: {response}");
        let reason = response["ignored"][0].as_str().expect("a reason");
        assert!(reason.starts_with("loop guard"), "{caller}: {reason}");
    }
    assert!(notifications(&account, &topic).await.is_empty());
    assert_eq!(inventory(&account).await, before, "nothing remediated");
}

#[tokio::test]
async fn input_that_can_never_succeed_is_logged_and_the_invocation_succeeds() {
    let account = Account::new().await;
    let topic = Topic::create(&account, "findings").await;
    let lambda = Lambda::start("network-events", &env(&account, &topic, "notify")).await;
    let response = lambda
        .invoke(&json!({"hello": "world"}))
        .await
        .unwrap_or_else(|e| panic!("must succeed: {e}"));
    assert!(
        response["rejected"]
            .as_str()
            .is_some_and(|r| r.contains("not an event")),
        "{response}"
    );
    assert!(
        lambda.log_records().iter().any(|r| r["level"] == "ERROR"),
        "{}",
        lambda.logs()
    );
    // An event that is not a trigger is ignored with its reason, and succeeds too.
    let ignored = api_call(
        &account.id,
        "ec2",
        "RunInstances",
        "Admin",
        json!({}),
        json!({}),
    );
    let response = lambda
        .invoke(&ignored)
        .await
        .expect("ignored events succeed");
    assert!(
        response["ignored"][0]
            .as_str()
            .is_some_and(|r| r.contains("not in the trigger catalog"))
    );
    assert!(notifications(&account, &topic).await.is_empty());
}

#[tokio::test]
async fn a_permanent_aws_failure_fails_the_invocation_as_non_retryable() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let proxy = FaultProxy::start(
        reachguard_tests::moto_url(),
        Plan {
            burst: 0,
            deny: Some("DescribeRouteTables".into()),
            ..Plan::default()
        },
    )
    .await;
    let lambda = Lambda::start(
        "network-events",
        &through(env(&account, &topic, "notify"), &proxy),
    )
    .await;
    let error = lambda
        .invoke(&delete_endpoints_event(
            &account.id,
            &ep.endpoints["s3"],
            "Admin",
        ))
        .await
        .expect_err("the invocation fails");
    assert_eq!(error["errorType"], "NonRetryable", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("DescribeRouteTables")),
        "{error}"
    );
    assert!(
        notifications(&account, &topic).await.is_empty(),
        "no partial notification"
    );
}

#[tokio::test]
async fn a_missing_setting_fails_at_start_up_naming_the_variable() {
    let account = Account::new().await;
    let lambda = Lambda::start("network-events", &account.cli_env()).await;
    assert!(!lambda.exit_status().await.success());
    assert!(
        lambda.logs().contains("REACHGUARD_TOPIC_ARN"),
        "{}",
        lambda.logs()
    );
}

#[tokio::test]
async fn the_sweep_fans_out_and_its_worker_reports_failed_items() {
    let home = Account::new().await;
    let other = Account::new().await;
    let broken = seed::broken(&home).await;
    let nat = seed::nat_only(&home).await;
    let topic = Topic::create(&home, "findings").await;
    let work_queue = queue::create(&home, WORK_QUEUE).await;
    let mut env = env(&home, &topic, "notify");
    env.push(("REACHGUARD_SWEEP_QUEUE_URL", work_queue.clone()));
    // No member role: the other account cannot be reached, and must not stop the home one.
    env.push(("REACHGUARD_ACCOUNTS", format!("{},{}", home.id, other.id)));
    env.push(("REACHGUARD_REGIONS", REGION.to_owned()));
    let lambda = Lambda::start("sweep", &env).await;

    let scheduled = json!({
        "version": "0", "id": "sweep-e2e-1", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": home.id, "time": "2026-11-26T14:00:00Z",
        "region": REGION, "resources": [format!("arn:aws:events:{REGION}:{}:rule/reachguard-sweep", home.id)],
        "detail": {}
    });
    let response = lambda
        .invoke(&scheduled)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(response["work_items"], 2, "{response}");

    let mut records: Vec<Value> = drain(&home, &work_queue)
        .await
        .iter()
        .map(|m| {
            json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                   "body": m.body(), "attributes": {}, "messageAttributes": {},
                   "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                   "eventSourceARN": format!("arn:aws:sqs:{REGION}:{}:{WORK_QUEUE}", home.id),
                   "awsRegion": REGION})
        })
        .collect();
    assert_eq!(records.len(), 2);
    let bodies: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().expect("body")).expect("work item"))
        .collect();
    assert!(
        bodies
            .iter()
            .all(|b| b["region"] == REGION && b["sweep"] == "sweep-e2e-1")
    );
    let failing = records
        .iter()
        .zip(&bodies)
        .find(|(_, b)| b["account"] == other.id.as_str())
        .map(|(r, _)| r["messageId"].clone())
        .expect("the other account's item");
    let mut junk = records[0].clone();
    junk["messageId"] = json!("junk-1");
    junk["body"] = json!("not a work item");
    records.push(junk);

    let response = lambda
        .invoke(&json!({"Records": records}))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": failing}]}),
        "only the unreachable account is retried; junk is dropped"
    );
    let mut vpcs: Vec<String> = notifications(&home, &topic)
        .await
        .iter()
        .map(|(a, _)| a["vpc"].as_str().unwrap_or_default().to_owned())
        .collect();
    vpcs.sort();
    let mut expected = vec![broken.vpc.clone(), nat.vpc.clone()];
    expected.sort();
    assert_eq!(vpcs, expected);
    let summary = sweep_batch_summary(&lambda);
    assert_eq!(summary["fields"]["evaluated"], 1);
    assert_eq!(summary["fields"]["failed"], 1);
    assert_eq!(summary["fields"]["rejected"], 1);
    if let Some(kib) = lambda.peak_rss_kib().await {
        eprintln!(
            "sweep peak RSS after a whole-account evaluation: {} MiB",
            kib / 1024
        );
    }
}

#[tokio::test]
async fn cold_starts_are_measured() {
    let account = Account::new().await;
    let topic = Topic::create(&account, "findings").await;
    let secret = account
        .slack_secret(&json!({"webhook_url": "http://127.0.0.1:9/hook"}).to_string())
        .await;
    for name in ["network-events", "service-events", "sweep", "slack-notify"] {
        let mut env = env(&account, &topic, "notify");
        env.push((
            "REACHGUARD_SWEEP_QUEUE_URL",
            "http://127.0.0.1:9/queue".into(),
        ));
        env.push(("REACHGUARD_SLACK_SECRET_ARN", secret.clone()));
        let lambda = Lambda::start(name, &env).await;
        let cold = lambda.cold_start().await;
        eprintln!(
            "cold start {name}: {} ms (process start to first /next)",
            cold.as_millis()
        );
        assert!(cold < Duration::from_secs(10), "{name}: {cold:?}");
    }
}

/// An endpoint-only VPC whose S3 gateway endpoint was just deleted, and `network-events` with the
/// state table in `mode`, ready for the DeleteVpcEndpoints event (the last member).
async fn deleted_s3_endpoint_with_state(
    mode: &str,
) -> (Account, seed::Seeded, Topic, Lambda, Value) {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    account.create_state_table("reachguard-state").await;
    let mut env = env(&account, &topic, mode);
    env.push(("REACHGUARD_STATE_TABLE", "reachguard-state".into()));
    let lambda = Lambda::start("network-events", &env).await;
    let s3 = ep.endpoints["s3"].clone();
    delete_endpoint(&account, &s3).await;
    let event = delete_endpoints_event(&account.id, &s3, "Admin");
    (account, ep, topic, lambda, event)
}

#[tokio::test]
async fn with_the_state_table_a_repeated_event_notifies_nothing_and_a_fix_resolves() {
    let (account, ep, topic, lambda, event) = deleted_s3_endpoint_with_state("notify").await;

    // The break is announced once: a retried (repeated) delivery announces nothing.
    for expected in [1, 0] {
        lambda
            .invoke(&event)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
        let delivered = notifications(&account, &topic).await;
        assert_eq!(delivered.len(), expected, "{delivered:?}");
    }

    // Someone puts a gateway endpoint back: one resolved notice.
    let new = seed::gateway_endpoint(
        &account,
        &ep.vpc,
        "s3",
        std::slice::from_ref(&ep.route_table),
    )
    .await;
    let created = create_vpc_endpoint_event(&account.id, &ep.vpc, "Gateway", "s3", &new);
    lambda
        .invoke(&created)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(strings(&delivered[0].0["status"]), ["resolved"]);
}

#[tokio::test]
async fn with_the_state_table_a_remediated_finding_is_not_announced_again() {
    let (account, ep, topic, lambda, event) = deleted_s3_endpoint_with_state("remediate").await;

    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(strings(&delivered[0].0["status"]), ["remediated"]);
    assert_eq!(available_s3_endpoints(&account, &ep.vpc).await.len(), 1);

    // The next event sees the fixed VPC: the remediation was already announced, so no
    // `resolved` notice follows, and nothing is created again.
    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 0, "{delivered:?}\n{}", lambda.logs());
    assert_eq!(available_s3_endpoints(&account, &ep.vpc).await.len(), 1);
}
