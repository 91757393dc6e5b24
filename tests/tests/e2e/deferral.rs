//! Evaluations handed to the sweep's work queue, with the real function binaries
//! (`reachguard_pipeline::deferral`): an event whose scope is the whole region becomes one work
//! item instead of an inline evaluation, and an evaluation that meets a NAT gateway or endpoint
//! still `pending` holds back what depends only on it and schedules a delayed re-evaluation of its
//! VPC, which the sweep's worker then does. moto creates NAT gateways and endpoints `available`
//! at once, so the fault proxy shows them `pending` (`Plan::pending`).

use aws_sdk_sqs::types::QueueAttributeName;
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::queue::{self, Topic, drain};
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, REGION, moto_url, seed};
use serde_json::{Value, json};

use crate::lambdas::{
    WORK_QUEUE, api_call, create_vpc_endpoint_event, env, notifications, strings, through,
    work_item_batch,
};

/// The functions' environment with the work queue (and the state table, when named).
fn queued_env(
    account: &Account,
    topic: &Topic,
    queue: &str,
    state_table: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut env = env(account, topic, "notify");
    env.push(("REACHGUARD_SWEEP_QUEUE_URL", queue.to_owned()));
    if let Some(table) = state_table {
        env.push(("REACHGUARD_STATE_TABLE", table.to_owned()));
    }
    env
}

/// The one `SendMessage` the function sent through `proxy`: asserts its `DelaySeconds` and
/// returns the work item it carries.
fn sent_work_item(proxy: &FaultProxy, delay_seconds: u64) -> Value {
    let sent = proxy.bodies_for("SendMessage");
    assert_eq!(sent.len(), 1, "one work item: {sent:?}");
    let request: Value = serde_json::from_str(&sent[0]).expect("SendMessage JSON");
    assert_eq!(request["DelaySeconds"], delay_seconds, "{request}");
    serde_json::from_str(request["MessageBody"].as_str().expect("MessageBody")).expect("work item")
}

/// The queue holds exactly one message, still delayed: nothing can be received yet.
async fn assert_one_delayed(account: &Account, queue: &str) {
    let delayed = queue::attribute(
        account,
        queue,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    )
    .await;
    assert_eq!(delayed.as_deref(), Some("1"));
    assert!(
        drain(account, queue).await.is_empty(),
        "not deliverable yet"
    );
}

/// A proxy in front of moto that shows `resource` (a NAT gateway or an endpoint) `pending`.
async fn showing_pending(resource: &str) -> FaultProxy {
    let plan = Plan {
        pending: vec![resource.to_owned()],
        ..Plan::default()
    };
    FaultProxy::start(moto_url(), plan).await
}

/// CreateRoute of a default route in `route_table` to the NAT gateway `nat`.
fn default_route_event(account: &Account, route_table: &str, nat: &str) -> Value {
    api_call(
        &account.id,
        "ec2",
        "CreateRoute",
        "Admin",
        json!({"routeTableId": route_table, "destinationCidrBlock": "0.0.0.0/0",
               "natGatewayId": nat}),
        json!({"_return": true}),
    )
}

/// Runs the sweep's worker, with `env`, on the work item `item`: asserts that it succeeds.
async fn sweep_work_item(account: &Account, env: &[(&str, String)], item: &Value) {
    let sweep = Lambda::start("sweep", env).await;
    let response = sweep
        .invoke(&work_item_batch(account, "deferred-1", item))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sweep.logs()));
    assert_eq!(response["batchItemFailures"], json!([]), "{}", sweep.logs());
}

fn rules(delivered: &[(Value, Value)]) -> Vec<String> {
    delivered
        .iter()
        .flat_map(|(attributes, _)| strings(&attributes["rule"]))
        .collect()
}

#[tokio::test]
async fn a_deleted_route_table_hands_the_whole_region_to_the_sweep_queue() {
    let account = Account::new().await;
    let nat = seed::nat_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let queue = queue::create(&account, WORK_QUEUE).await;
    let spare = seed::route_table(&account, &nat.vpc, &[]).await;
    account
        .ec2()
        .delete_route_table()
        .route_table_id(&spare)
        .send()
        .await
        .expect("DeleteRouteTable");
    let event = api_call(
        &account.id,
        "ec2",
        "DeleteRouteTable",
        "Admin",
        json!({"routeTableId": spare}),
        json!({"_return": true}),
    );
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let lambda = Lambda::start(
        "network-events",
        &through(queued_env(&account, &topic, &queue, None), &proxy),
    )
    .await;
    let response = lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));

    let item = json!({"account": account.id, "region": REGION, "sweep": null,
        "trigger": {"event_name": "DeleteRouteTable",
                    "event_id": format!("evt-DeleteRouteTable-{}", account.id)}});
    assert_eq!(response["evaluated"], json!([]), "{response}");
    assert_eq!(response["deferred"], json!([item]), "{response}");
    for operation in [
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeRouteTables",
        "ListClusters",
    ] {
        assert_eq!(
            proxy.requests_for(operation),
            0,
            "{operation}: no inline evaluation"
        );
    }
    assert_eq!(sent_work_item(&proxy, 0), item);
    let queued = drain(&account, &queue).await;
    assert_eq!(queued.len(), 1, "one work item for the account/region");
    let body: Value =
        serde_json::from_str(queued[0].body().unwrap_or_default()).expect("work item");
    assert_eq!(body, item);
    assert!(notifications(&account, &topic).await.is_empty());

    // The sweep's worker evaluates the region and names the event in its notification.
    let worker_env = queued_env(&account, &topic, &queue, None);
    sweep_work_item(&account, &worker_env, &body).await;
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].0["vpc"], nat.vpc.as_str());
    assert_eq!(delivered[0].1["trigger"]["event_name"], "DeleteRouteTable");

    // Without a queue (the CLI, an older deployment) the event is evaluated inline as before.
    let inline = Lambda::start("network-events", &env(&account, &topic, "notify")).await;
    let response = inline
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", inline.logs()));
    assert_eq!(response["evaluated"].as_array().map(Vec::len), Some(1));
    assert!(response.get("deferred").is_none(), "{response}");
}

#[tokio::test]
async fn a_route_to_a_pending_nat_gateway_opens_nothing_and_is_evaluated_again_later() {
    let account = Account::new().await;
    let s = seed::nat_only(&account).await;
    let nat = s.nat_gateway.clone().expect("a NAT gateway");
    let topic = Topic::create(&account, "findings").await;
    let queue = queue::create(&account, WORK_QUEUE).await;
    let proxy = showing_pending(&nat).await;
    let lambda = Lambda::start(
        "network-events",
        &through(queued_env(&account, &topic, &queue, None), &proxy),
    )
    .await;
    let event = default_route_event(&account, &s.route_table, &nat);
    let response = lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));

    assert_eq!(response["evaluated"][0]["findings"], 0, "{response}");
    assert!(
        notifications(&account, &topic).await.is_empty(),
        "no finding opened on a pending NAT gateway"
    );
    let item = sent_work_item(&proxy, 90);
    assert_eq!(
        item,
        json!({"account": account.id, "region": REGION, "sweep": null, "vpcs": [s.vpc],
               "trigger": {"event_name": "CreateRoute",
                           "event_id": format!("evt-CreateRoute-{}", account.id)},
               "recheck": 1})
    );
    assert_one_delayed(&account, &queue).await;
    let logged = lambda.log_records().into_iter().find(|r| {
        r["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("re-evaluation scheduled"))
    });
    let logged = logged.unwrap_or_else(|| panic!("a log line:\n{}", lambda.logs()));
    assert_eq!(logged["fields"]["unsettled"], format!("{nat} (pending)"));
    assert!(logged["fields"]["held_back"].as_u64() > Some(0), "{logged}");

    // Once the NAT gateway is available, the delayed item finds the route working.
    let worker_env = queued_env(&account, &topic, &queue, None);
    sweep_work_item(&account, &worker_env, &item).await;
    let delivered = notifications(&account, &topic).await;
    let rules = rules(&delivered);
    assert!(
        rules.contains(&"nat-for-gateway-service".to_owned()),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&"unreachable-dependency".to_owned()),
        "{rules:?}"
    );
    assert!(
        drain(&account, &queue).await.is_empty(),
        "nothing scheduled again"
    );
}

#[tokio::test]
async fn a_pending_endpoint_whose_group_blocks_https_is_reported_once_available() {
    let account = Account::new().await;
    let s = seed::nat_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let queue = queue::create(&account, WORK_QUEUE).await;
    account.create_state_table("reachguard-state").await;
    let queued = queued_env(&account, &topic, &queue, Some("reachguard-state"));

    // What the NAT-only VPC has is announced first.
    let direct = Lambda::start("network-events", &queued).await;
    let nat = s.nat_gateway.as_deref().expect("a NAT gateway");
    let route = default_route_event(&account, &s.route_table, nat);
    direct
        .invoke(&route)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", direct.logs()));
    assert_eq!(notifications(&account, &topic).await.len(), 1);

    // A new ecr.dkr endpoint behind a group that admits nothing, while it is still pending.
    let closed = seed::security_group(&account, &s.vpc, "no-https", None).await;
    let endpoint =
        seed::interface_endpoint(&account, &s.vpc, "ecr.dkr", &s.subnets, &closed, true).await;
    let proxy = showing_pending(&endpoint).await;
    let lambda = Lambda::start("network-events", &through(queued.clone(), &proxy)).await;
    let created = create_vpc_endpoint_event(&account.id, &s.vpc, "Interface", "ecr.dkr", &endpoint);
    lambda
        .invoke(&created)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert!(
        notifications(&account, &topic).await.is_empty(),
        "nothing opened while the endpoint is pending"
    );
    let item = sent_work_item(&proxy, 90);
    assert_eq!(item["vpcs"], json!([s.vpc]));
    assert_eq!(item["recheck"], 1);
    assert_one_delayed(&account, &queue).await;

    // The delayed re-evaluation, the endpoint now available, opens its blocked group.
    sweep_work_item(&account, &queued, &item).await;
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let (attributes, body) = &delivered[0];
    assert_eq!(strings(&attributes["status"]), ["opened"]);
    assert_eq!(body["trigger"]["event_name"], "CreateVpcEndpoint");
    let blocked: Vec<&Value> = body["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter(|t| t["finding"]["rule"] == "endpoint-security-group-blocks-https")
        .collect();
    assert!(!blocked.is_empty(), "{body}");
    assert!(
        blocked
            .iter()
            .all(|t| t["finding"]["endpoint"] == endpoint.as_str())
    );
}
