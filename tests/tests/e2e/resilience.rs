//! Failure paths the moto tests did not exercise (issue 10 §5, §7, §8): a throttled remediation
//! is retried, concurrent invocations create one endpoint, a member account without the role is
//! a permanent failure the sweep skips, and events that cannot or must not be evaluated. Each
//! runs through the SDK against moto, most with the fault proxy in front of it and the real
//! function binaries.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sts::config::Credentials;
use reachguard_shared::aws::{Accounts, AdapterError, ClientSettings, MemberRole};
use reachguard_shared::remediation::Mode;
use reachguard_tests::proxy::{Delay, FaultProxy, Plan};
use reachguard_tests::queue::{self, Topic, drain};
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, REGION, config_with, moto_url, seed};
use serde_json::{Value, json};

use crate::lambdas::{
    WORK_QUEUE, available_s3_endpoints, delete_endpoint, delete_endpoints_event, env,
    notifications, s3_transitions, strings, sweep_batch_summary, through, work_item_batch,
};

const STATE_TABLE: &str = "reachguard-state";

#[tokio::test]
async fn a_throttled_remediation_fails_retryable_and_the_retry_remediates() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    account.create_state_table(STATE_TABLE).await;
    // Every attempt of the first CreateVpcEndpoint call is throttled: it fails after the
    // SDK's own retries, as a throttling burst on AWS would.
    let attempts = ClientSettings::default().max_attempts as usize;
    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            throttle_first: Some(("CreateVpcEndpoint".into(), attempts)),
            ..Plan::default()
        },
    )
    .await;
    let mut env = through(env(&account, &topic, "remediate"), &proxy);
    env.push(("REACHGUARD_STATE_TABLE", STATE_TABLE.into()));
    let lambda = Lambda::start("network-events", &env).await;
    let s3 = ep.endpoints["s3"].clone();
    delete_endpoint(&account, &s3).await;
    let event = delete_endpoints_event(&account.id, &s3, "Admin");

    let error = lambda
        .invoke(&event)
        .await
        .expect_err("a transient failure");
    assert_eq!(error["errorType"], "Retryable", "{error}");
    let message = error["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("CreateVpcEndpoint") && message.contains("RequestLimitExceeded"),
        "{error}"
    );
    // Everything else was announced first: the outage, opened, with the remediation retrying.
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}\n{}", lambda.logs());
    let s3_opened = s3_transitions(&delivered[0].1);
    assert_eq!(s3_opened.len(), 2, "{:?}", delivered[0].1);
    for t in s3_opened {
        assert_eq!(t["status"], "opened");
        assert_eq!(t["remediation"]["outcome"], "retrying");
    }
    assert!(available_s3_endpoints(&account, &ep.vpc).await.is_empty());
    assert_eq!(proxy.requests_for("CreateVpcEndpoint"), attempts);

    // The retry (the same event again) tries the remediation once more, and announces it.
    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let delivered = notifications(&account, &topic).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}\n{}", lambda.logs());
    assert_eq!(strings(&delivered[0].0["status"]), ["remediated"]);
    let remediated = s3_transitions(&delivered[0].1);
    assert_eq!(remediated.len(), 2, "{:?}", delivered[0].1);
    assert!(
        remediated
            .iter()
            .all(|t| t["remediation"]["outcome"] == "applied")
    );
    assert_eq!(available_s3_endpoints(&account, &ep.vpc).await.len(), 1);

    // Settled: a third delivery announces nothing and creates nothing.
    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert!(notifications(&account, &topic).await.is_empty());
    assert_eq!(proxy.requests_for("CreateVpcEndpoint"), attempts + 1);
}

#[tokio::test]
async fn two_invocations_that_split_the_claims_create_one_endpoint() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    account.create_state_table(STATE_TABLE).await;
    // A second session in the same account: the proxy tells the two processes apart by their
    // access keys.
    let base = config_with(
        moto_url(),
        Credentials::new("testing", "testing", None, None, "test"),
    )
    .await;
    let twin = Account::assume(&base, &account.id).await;
    let key = |a: &Account| a.credentials.access_key_id().to_owned();
    // The findings' records are written in finding order (by subnet id), one after the other
    // or at once.
    let mut subnets = ep.subnets.clone();
    subnets.sort();
    let (first, second) = (&subnets[0], &subnets[1]);
    // The two findings (one per service subnet) are claimed one by each process: the first
    // process's writes about the second subnet wait 3 s, the second process's about the first
    // subnet 1 s (it loses the first, then wins the second before the first process gets to it). Both then plan the same create-gateway-endpoint; the proxy holds the first
    // CreateVpcEndpoint until the second arrives (both have read that no endpoint exists) and,
    // as AWS does, answers a repeated ClientToken with the first answer.
    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            delays: vec![
                Delay {
                    access_key: key(&account),
                    containing: second.clone(),
                    by: Duration::from_secs(3),
                },
                Delay {
                    access_key: key(&twin),
                    containing: first.clone(),
                    by: Duration::from_secs(1),
                },
            ],
            gather: Some(("CreateVpcEndpoint".into(), 2, Duration::from_secs(20))),
            client_tokens: true,
            ..Plan::default()
        },
    )
    .await;
    let with_state = |a: &Account| {
        let mut env = through(env(a, &topic, "remediate"), &proxy);
        env.push(("REACHGUARD_STATE_TABLE", STATE_TABLE.into()));
        env
    };
    let one = Lambda::start("network-events", &with_state(&account)).await;
    let two = Lambda::start("network-events", &with_state(&twin)).await;
    let s3 = ep.endpoints["s3"].clone();
    delete_endpoint(&account, &s3).await;
    let event = delete_endpoints_event(&account.id, &s3, "Admin");

    let (a, b) = tokio::join!(one.invoke(&event), two.invoke(&event));
    a.unwrap_or_else(|e| panic!("{e}\n{}", one.logs()));
    b.unwrap_or_else(|e| panic!("{e}\n{}", two.logs()));

    // Each process announced the one finding it won as remediated.
    let delivered = notifications(&account, &topic).await;
    let mut won: Vec<Vec<String>> = delivered
        .iter()
        .map(|(_, body)| {
            s3_transitions(body)
                .iter()
                .filter(|t| t["status"] == "remediated")
                .map(|t| {
                    t["finding"]["subnet"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .filter(|subnets: &Vec<String>| !subnets.is_empty())
        .collect();
    won.sort();
    let mut expected = vec![vec![first.clone()], vec![second.clone()]];
    expected.sort();
    assert_eq!(won, expected, "the claims split: {delivered:?}");
    // Both sent CreateVpcEndpoint, with one ClientToken: one endpoint.
    assert_eq!(proxy.requests_for("CreateVpcEndpoint"), 2);
    assert_eq!(proxy.client_tokens().await, 1);
    let created = available_s3_endpoints(&account, &ep.vpc).await;
    assert_eq!(created.len(), 1, "exactly one endpoint: {created:?}");
}

/// A member role whose `AssumeRole` the proxy refuses in `refused`'s account.
fn member_role() -> MemberRole {
    MemberRole {
        name: "reachguard-member".into(),
        external_id: None,
        max_mode: Mode::Notify,
    }
}

/// A proxy in front of moto that refuses `AssumeRole` of `role` in `refused`'s account.
async fn refusing_assume_role(role: &MemberRole, refused: &Account) -> FaultProxy {
    let plan = Plan {
        deny_assume_role: Some(role.arn("aws", &refused.id)),
        ..Plan::default()
    };
    FaultProxy::start(moto_url(), plan).await
}

#[tokio::test]
async fn assume_role_access_denied_is_permanent_and_names_the_account_and_role() {
    let home = Account::new().await;
    let member = Account::new().await;
    let refused = Account::new().await;
    let role = member_role();
    let proxy = refusing_assume_role(&role, &refused).await;
    let home_config = ClientSettings::default().apply(&home.through(&proxy.url).await);
    let accounts = Accounts::new(home_config, Some(role.clone()));

    let error = accounts
        .config_for(&refused.id)
        .await
        .expect_err("the role is refused");
    assert!(
        matches!(error, AdapterError::MemberRoleDenied { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient(), "{error}");
    assert_eq!(error.code(), Some("AccessDenied"));
    let text = error.to_string();
    assert!(
        text.contains(&refused.id) && text.contains(&role.arn("aws", &refused.id)),
        "{text}"
    );
    assert_eq!(
        proxy.requests_for("AssumeRole"),
        1,
        "an AccessDenied is not retried"
    );
    // A refusal is not kept: the next call asks STS again (the role may have been deployed).
    accounts.config_for(&refused.id).await.expect_err("refused");
    assert_eq!(proxy.requests_for("AssumeRole"), 2);

    // Another member account is unaffected.
    accounts.config_for(&member.id).await.expect("member");
}

#[tokio::test]
async fn the_sweep_skips_accounts_without_the_member_role_once_per_run() {
    let home = Account::new().await;
    let member = Account::new().await;
    let refused = Account::new().await;
    let topic = Topic::create(&home, "findings").await;
    let role = member_role();
    let proxy = refusing_assume_role(&role, &refused).await;
    let work_queue = queue::create(&home, WORK_QUEUE).await;
    let mut env = through(env(&home, &topic, "notify"), &proxy);
    env.push(("REACHGUARD_SWEEP_QUEUE_URL", work_queue.clone()));
    env.push(("REACHGUARD_MEMBER_ROLE", role.name.clone()));
    env.push((
        "REACHGUARD_ACCOUNTS",
        format!("{} {} {}", home.id, member.id, refused.id),
    ));
    env.push(("REACHGUARD_REGIONS", REGION.to_owned()));
    let lambda = Lambda::start("sweep", &env).await;
    let scheduled = json!({
        "version": "0", "id": "sweep-no-role", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": home.id, "time": "2026-11-28T08:00:00Z",
        "region": REGION, "resources": [], "detail": {}
    });

    let response = lambda
        .invoke(&scheduled)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(
        response,
        json!({"work_items": 2, "without_member_role": 1}),
        "{}",
        lambda.logs()
    );
    // The SDK logs its own warnings (the STS refusal among them); reachguard's is one.
    let warnings: Vec<Value> = lambda
        .log_records()
        .into_iter()
        .filter(|r| {
            r["level"] == "WARN"
                && r["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("accounts skipped"))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per run: {}", lambda.logs());
    assert!(
        warnings[0]["fields"]["accounts"]
            .as_str()
            .is_some_and(|a| a.contains(&refused.id)),
        "{warnings:?}"
    );
    let items = drain(&home, &work_queue).await;
    let accounts: BTreeSet<String> = items
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("item");
            body["account"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from([home.id.clone(), member.id.clone()])
    );

    // A work item for that account anyway (the role removed after the fan-out): skipped, not
    // returned for redelivery into the dead-letter queue.
    let item = json!({"account": refused.id, "region": REGION, "sweep": "sweep-no-role"});
    let batch = work_item_batch(&home, "no-role-1", &item);
    let response = lambda
        .invoke(&batch)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(
        response,
        json!({"batchItemFailures": []}),
        "{}",
        lambda.logs()
    );
    let summary = sweep_batch_summary(&lambda);
    assert_eq!(summary["fields"]["without_member_role"], 1);
    assert_eq!(summary["fields"]["failed"], 0);
}

#[tokio::test]
async fn an_event_whose_account_is_not_an_account_id_is_rejected_and_succeeds() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let lambda = Lambda::start("network-events", &env(&account, &topic, "notify")).await;
    delete_endpoint(&account, &ep.endpoints["s3"]).await;
    let mut event = delete_endpoints_event(&account.id, &ep.endpoints["s3"], "Admin");
    event["account"] = json!("12345");

    let response = lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(response["evaluated"], json!([]), "{response}");
    assert!(
        response["rejected"]
            .as_str()
            .is_some_and(|r| r.contains("\"12345\" is not a 12-digit account id")),
        "{response}"
    );
    assert!(
        lambda.log_records().iter().any(|r| r["level"] == "ERROR"
            && r["fields"]["message"] == "event rejected: it can never be evaluated"),
        "{}",
        lambda.logs()
    );
    assert!(notifications(&account, &topic).await.is_empty());
}

#[tokio::test]
async fn an_event_from_a_region_outside_reachguard_regions_is_ignored_with_the_reason() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let topic = Topic::create(&account, "findings").await;
    let mut env = env(&account, &topic, "notify");
    env.push(("REACHGUARD_REGIONS", "eu-west-1 eu-central-1".into()));
    let lambda = Lambda::start("network-events", &env).await;
    delete_endpoint(&account, &ep.endpoints["s3"]).await;

    let response = lambda
        .invoke(&delete_endpoints_event(
            &account.id,
            &ep.endpoints["s3"],
            "Admin",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    assert_eq!(response["evaluated"], json!([]), "{response}");
    assert_eq!(
        response["ignored"],
        json!([format!(
            "region {REGION} is not one of REACHGUARD_REGIONS (eu-west-1, eu-central-1)"
        )])
    );
    assert!(notifications(&account, &topic).await.is_empty());
}
