//! Faults between reachguard and AWS, injected by a loopback proxy in front of moto: throttling
//! bursts are retried through; a permanent failure is a clear error and nothing is notified.

use reachguard_pipeline::EvaluationError;
use reachguard_pipeline::scan::scan;
use reachguard_shared::aws::{AdapterError, ClientSettings, Collector, Notifier, vpc_scope};
use reachguard_shared::notification::Trigger;
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::queue::{Topic, drain};
use reachguard_tests::{Account, moto_url, scan_and_publish, seed};

fn keys(report: &reachguard_shared::evaluate::Report) -> Vec<String> {
    report.findings.iter().map(|f| f.key()).collect()
}

#[tokio::test]
async fn a_burst_of_throttling_and_503s_is_retried_to_the_same_findings() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let direct = scan(
        &Collector::new(&account.config),
        &vpc_scope([broken.vpc.clone()]),
    )
    .await
    .expect("direct scan");

    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            burst: 8,
            deny: None,
            ..Plan::default()
        },
    )
    .await;
    let config = ClientSettings::default().apply(&account.through(&proxy.url).await);
    let through = scan(&Collector::new(&config), &vpc_scope([broken.vpc.clone()]))
        .await
        .expect("scan through faults");

    assert_eq!(proxy.faults(), 8);
    assert!(
        proxy.requests() >= direct.collection.calls.total() + 8,
        "every fault was retried"
    );
    assert_eq!(
        through.collection.calls, direct.collection.calls,
        "retries are not new calls"
    );
    assert_eq!(keys(&through.report), keys(&direct.report));
    assert_eq!(through.report.findings.len(), 5);
}

#[tokio::test]
async fn a_permanent_failure_is_a_clear_error_and_notifies_nothing() {
    let account = Account::new().await;
    seed::broken(&account).await;
    let topic = Topic::create(&account, "findings").await;

    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            burst: 0,
            deny: Some("DescribeNatGateways".into()),
            ..Plan::default()
        },
    )
    .await;
    let config = ClientSettings::default().apply(&account.through(&proxy.url).await);
    let notifier = Notifier::new(&account.config, &topic.arn);
    let err = scan_and_publish(
        &Collector::new(&config),
        &notifier,
        &vpc_scope::<_, String>([]),
        &Trigger::default(),
    )
    .await
    .expect_err("DescribeNatGateways is denied");

    let EvaluationError::Aws(adapter) = &err else {
        panic!("an AWS error, got {err}")
    };
    assert_eq!(adapter.operation(), "DescribeNatGateways");
    assert_eq!(adapter.code(), Some("UnauthorizedOperation"));
    assert!(!adapter.is_transient());
    assert!(matches!(adapter, AdapterError::Service { .. }));
    assert_eq!(
        err.to_string(),
        "DescribeNatGateways: UnauthorizedOperation: You are not authorized to perform this operation."
    );
    assert_eq!(proxy.faults(), 1, "an authorisation error is not retried");
    assert!(
        drain(&account, &topic.envelope_queue).await.is_empty(),
        "no notification"
    );
    assert!(
        drain(&account, &topic.raw_queue).await.is_empty(),
        "no notification"
    );
}
