//! The notifier against moto: SNS → SQS delivery of one message per VPC with the attributes
//! subscription filter policies select on, as the SNS envelope and raw.

use reachguard_shared::aws::{Collector, Notifier, Scope};
use reachguard_shared::notification::Trigger;
use reachguard_tests::queue::{Topic, drain};
use reachguard_tests::{Account, scan_and_publish, seed};
use serde_json::Value;

#[tokio::test]
async fn one_message_per_vpc_with_findings_reaches_the_queues() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let broken = seed::broken(&account).await;
    let nat = seed::nat_only(&account).await;
    let topic = Topic::create(&account, "findings").await;

    let trigger = Trigger {
        event_name: Some("ModifyVpcEndpoint".into()),
        event_id: Some("evt-1".into()),
    };
    let collector = Collector::new(&account.config);
    let notifier = Notifier::new(&account.config, &topic.arn);
    let (scan, ids) = scan_and_publish(&collector, &notifier, &Scope::account_region(), &trigger)
        .await
        .expect("scan");
    assert_eq!(
        ids.len(),
        2,
        "broken and NAT-only have findings; endpoint-only has none"
    );
    assert_eq!(scan.report.findings.len(), 7);

    // Envelope delivery: the SNS JSON envelope, `sqs` member as Message, attributes inside.
    let mut envelopes: Vec<Value> = drain(&account, &topic.envelope_queue)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().expect("body")).expect("envelope JSON"))
        .collect();
    envelopes.sort_by_key(|e| {
        e["MessageAttributes"]["severity"]["Value"]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(envelopes.len(), 2);
    let (critical, low) = (&envelopes[0], &envelopes[1]);
    assert_eq!(critical["TopicArn"], topic.arn.as_str());
    assert_eq!(
        critical["Subject"].as_str().expect("subject"),
        format!(
            "[critical] 5 opened in {} ({} us-east-1)",
            broken.vpc, account.id
        )
    );
    let attrs = &critical["MessageAttributes"];
    assert_eq!(attrs["severity"]["Type"], "String");
    assert_eq!(attrs["severity"]["Value"], "critical");
    assert_eq!(attrs["rule"]["Type"], "String.Array");
    let rules: Vec<String> =
        serde_json::from_str(attrs["rule"]["Value"].as_str().expect("rules")).expect("array");
    assert_eq!(
        rules,
        ["gateway-endpoint-not-associated", "unreachable-dependency"]
    );
    assert_eq!(attrs["status"]["Value"], r#"["opened"]"#);
    assert_eq!(attrs["account"]["Value"], account.id.as_str());
    assert_eq!(attrs["region"]["Value"], "us-east-1");
    assert_eq!(attrs["vpc"]["Value"], broken.vpc.as_str());
    let body: Value = serde_json::from_str(critical["Message"].as_str().expect("message"))
        .expect("notification JSON");
    assert_eq!(body["vpc"], broken.vpc.as_str());
    assert_eq!(body["account"], account.id.as_str());
    assert_eq!(body["trigger"]["event_id"], "evt-1");
    let transitions = body["transitions"].as_array().expect("transitions");
    assert_eq!(transitions.len(), 5);
    assert_eq!(transitions[0]["finding"]["severity"], "critical");
    assert_eq!(
        transitions[4]["finding"]["rule"],
        "gateway-endpoint-not-associated"
    );
    assert!(transitions.iter().all(|t| t["status"] == "opened"));
    assert_eq!(low["MessageAttributes"]["severity"]["Value"], "medium");
    assert_eq!(low["MessageAttributes"]["vpc"]["Value"], nat.vpc.as_str());
    assert!(
        !envelopes
            .iter()
            .any(|e| e["MessageAttributes"]["vpc"]["Value"] == ep.vpc.as_str())
    );

    // Raw delivery: the same JSON as the body, the attributes as SQS message attributes.
    let raw = drain(&account, &topic.raw_queue).await;
    assert_eq!(raw.len(), 2);
    for m in &raw {
        let body: Value =
            serde_json::from_str(m.body().expect("body")).expect("raw notification JSON");
        let attrs = m.message_attributes().expect("attributes");
        let vpc = attrs["vpc"].string_value().expect("vpc");
        assert_eq!(body["vpc"], vpc);
        let severity = attrs["severity"].string_value().expect("severity");
        assert_eq!(body["transitions"][0]["finding"]["severity"], severity);
        assert_eq!(attrs["status"].data_type(), "String.Array");
    }
}
