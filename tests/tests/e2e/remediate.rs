//! The remediator against moto: every action's effect, idempotency without `ClientToken`
//! support, and a failure in the middle of a plan.

use reachguard_pipeline::scan::remediate;
use reachguard_shared::action::Action;
use reachguard_shared::aws::{ClientSettings, Collector, Remediator, vpc_scope};
use reachguard_shared::notification::Status;
use reachguard_shared::remediation::{Mode, Outcome, RemediationPolicy};
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::{Account, REGION, inventory, moto_url, seed};

fn applied(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Applied(_))
}

fn already_done(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::AlreadyDone(_))
}

#[tokio::test]
async fn every_action_changes_moto_once_and_then_is_already_done() {
    let account = Account::new().await;
    let s = seed::broken(&account).await;
    let remediator = Remediator::new(&account.config);
    let keys = vec!["test".to_owned()];
    let apply_twice = |action: Action| {
        let remediator = remediator.clone();
        let keys = keys.clone();
        async move {
            let first = remediator.apply(&action, &keys).await.expect("first apply");
            let second = remediator
                .apply(&action, &keys)
                .await
                .expect("second apply");
            assert!(applied(&first), "{action:?}: {first:?}");
            assert!(already_done(&second), "{action:?}: {second:?}");
        }
    };

    // create-gateway-endpoint: moto ignores ClientToken, so only the state check prevents a twin.
    apply_twice(Action::CreateGatewayEndpoint {
        vpc: s.vpc.clone(),
        service_name: format!("com.amazonaws.{REGION}.dynamodb"),
        route_tables: vec![s.route_table.clone()],
    })
    .await;
    let created = seed::endpoints_for(&account, &s.vpc, "dynamodb").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].route_table_ids(),
        std::slice::from_ref(&s.route_table)
    );

    apply_twice(Action::AssociateGatewayEndpoint {
        endpoint: s.endpoints["s3"].clone(),
        route_table: s.route_table.clone(),
    })
    .await;
    assert!(
        seed::endpoints_for(&account, &s.vpc, "s3").await[0]
            .route_table_ids()
            .contains(&s.route_table)
    );

    // create-interface-endpoint: one endpoint, in the given subnets, behind a new group that
    // admits 443 from the VPC, both tagged.
    apply_twice(Action::CreateInterfaceEndpoint {
        vpc: s.vpc.clone(),
        service_name: format!("com.amazonaws.{REGION}.secretsmanager"),
        subnets: vec![s.subnets[0].clone()],
        allow_https_from: s.cidr.clone(),
    })
    .await;
    let sm = seed::endpoints_for(&account, &s.vpc, "secretsmanager").await;
    assert_eq!(sm.len(), 1);
    assert_eq!(sm[0].subnet_ids(), std::slice::from_ref(&s.subnets[0]));
    assert_eq!(sm[0].private_dns_enabled(), Some(true));
    let group = sm[0].groups()[0].group_id().expect("group").to_owned();
    let groups = account
        .ec2()
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .expect("DescribeSecurityGroups");
    let g = &groups.security_groups()[0];
    assert_eq!(g.group_name(), Some("reachguard-secretsmanager"));
    assert!(
        g.tags()
            .iter()
            .any(|t| t.key() == Some("reachguard:created-by"))
    );
    assert!(g.ip_permissions().iter().any(|p| {
        p.from_port() == Some(443)
            && p.ip_ranges()
                .iter()
                .any(|r| r.cidr_ip() == Some(s.cidr.as_str()))
    }));

    // add-endpoint-subnet on that endpoint.
    apply_twice(Action::AddEndpointSubnet {
        endpoint: sm[0].vpc_endpoint_id().expect("id").to_owned(),
        subnet: s.subnets[1].clone(),
    })
    .await;
    let sm = seed::endpoints_for(&account, &s.vpc, "secretsmanager").await;
    assert!(sm[0].subnet_ids().contains(&s.subnets[1]));

    // allow-https-from-vpc on a group that admits nothing yet.
    let bare = seed::security_group(&account, &s.vpc, "bare", None).await;
    apply_twice(Action::AllowHttpsFromVpc {
        security_group: bare.clone(),
        cidr: s.cidr.clone(),
    })
    .await;

    // enable-private-dns: reachguard sends ModifyVpcEndpoint PrivateDnsEnabled=true, but moto
    // 5.2.5 ignores that parameter (the endpoint stays disabled), so only the call is checked.
    let sg = seed::security_group(&account, &s.vpc, "sts-endpoint", Some(&s.cidr)).await;
    let sts = seed::interface_endpoint(&account, &s.vpc, "sts", &s.subnets, &sg, false).await;
    let first = remediator
        .apply(&Action::EnablePrivateDns { endpoint: sts }, &keys)
        .await
        .expect("apply");
    assert!(applied(&first), "{first:?}");

    // Nothing was deleted along the way.
    let after = inventory(&account).await;
    let states: Vec<&str> = after["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| e["state"].as_str())
        .collect();
    assert!(states.iter().all(|s| *s == "available"), "{states:?}");
}

#[tokio::test]
async fn a_failure_mid_plan_is_reported_and_the_rest_still_applies() {
    let account = Account::new().await;
    let s = seed::broken(&account).await;
    // ModifyVpcEndpoint (the association) is denied; CreateVpcEndpoint goes through.
    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            burst: 0,
            deny: Some("ModifyVpcEndpoint".into()),
            ..Plan::default()
        },
    )
    .await;
    let config = ClientSettings::default().apply(&account.through(&proxy.url).await);
    let policy = RemediationPolicy {
        mode: Mode::Remediate,
        ..RemediationPolicy::default()
    };
    let r = remediate(
        &Collector::new(&config),
        &Remediator::new(&config),
        &vpc_scope([s.vpc.clone()]),
        &policy,
    )
    .await
    .expect("remediate");

    let outcomes: Vec<(&str, bool)> = r
        .actions
        .iter()
        .map(|a| {
            (
                a.action.name().as_str(),
                matches!(a.outcome, Outcome::Failed(_)),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("create-gateway-endpoint", false),
            ("associate-gateway-endpoint", true)
        ]
    );
    assert!(r.failed() && r.applied());
    let Outcome::Failed(error) = &r.actions[1].outcome else {
        unreachable!()
    };
    assert_eq!(
        error,
        "ModifyVpcEndpoint: UnauthorizedOperation: You are not authorized to perform this operation."
    );

    // moto: the DynamoDB endpoint exists, the S3 association does not.
    assert_eq!(
        seed::endpoints_for(&account, &s.vpc, "dynamodb")
            .await
            .len(),
        1
    );
    assert!(
        !seed::endpoints_for(&account, &s.vpc, "s3").await[0]
            .route_table_ids()
            .contains(&s.route_table)
    );

    // The re-scan still has the S3 findings; the transitions say what happened to each.
    let after = r.after.as_ref().expect("re-scanned");
    assert_eq!(after.findings.len(), 3);
    let statuses: Vec<(String, Status)> = r
        .transitions()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}/{}",
                    t.finding.rule,
                    t.finding.dependency.as_deref().unwrap_or("-")
                ),
                t.status,
            )
        })
        .collect();
    for (what, status) in &statuses {
        let expected = if what.ends_with("/dynamodb") {
            Status::Remediated
        } else {
            Status::RemediationFailed
        };
        assert_eq!(*status, expected, "{what} in {statuses:?}");
    }
    assert_eq!(statuses.len(), 5);
}
