//! The Security Hub export against moto (issue 16): the adapter's batching and retries, and the
//! guard's export of a finding's lifecycle as states of one ASFF finding, in the right account.

use std::collections::BTreeMap;

use aws_sdk_securityhub::Client;
use reachguard_pipeline::{Env, Guard, Settings};
use reachguard_shared::asff::{AsffFinding, Observation, WorkflowStatus, to_asff};
use reachguard_shared::aws::{SdkConfig, SecurityHub};
use reachguard_shared::evaluate::evaluate;
use reachguard_shared::model::Topology;
use reachguard_shared::snapshot::Snapshot;
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::queue::Topic;
use reachguard_tests::runtime::Lambda;
use reachguard_tests::{Account, REGION, evaluate_account, moto_url, seed};
use serde_json::{Value, json};

/// 2026-11-28T07:42:13Z.
const NOW: i64 = 1_795_851_733;

/// Every finding Security Hub holds for `account` in moto, by `Id`: (RecordState,
/// Compliance.Status, Workflow.Status, AwsAccountId).
async fn held(account: &Account) -> BTreeMap<String, (String, String, String, String)> {
    let pages = Client::new(&account.config)
        .get_findings()
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetFindings");
    pages
        .into_iter()
        .map(|f| {
            (
                f.id().unwrap_or_default().to_string(),
                (
                    f.record_state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    f.compliance()
                        .and_then(|c| c.status())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    f.workflow()
                        .and_then(|w| w.status())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    f.aws_account_id().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

/// The findings of the bundled broken example, moved into `account`, as ASFF opened now.
fn example_findings(account: &str) -> Vec<AsffFinding> {
    let path = format!("{}/../examples/broken-vpc.json", env!("CARGO_MANIFEST_DIR"));
    let snapshot = Snapshot::from_json(&std::fs::read_to_string(path).expect("example"))
        .expect("example parses");
    evaluate(&Topology::from_snapshot(&snapshot).expect("example is valid"))
        .findings
        .into_iter()
        .map(|mut finding| {
            finding.account = Some(account.to_string());
            to_asff(&finding, &Observation::open_now(NOW)).expect("maps")
        })
        .collect()
}

#[tokio::test]
async fn two_hundred_fifty_findings_go_in_at_least_three_calls_and_all_are_imported() {
    let account = Account::new().await;
    let template = example_findings(&account.id).remove(0);
    // Ids without `|`: moto's GetFindings pagination splits its token on `|` (Security Hub
    // itself accepts it, and the other tests read back fewer than one page).
    let findings: Vec<AsffFinding> = (0..250)
        .map(|i| AsffFinding {
            id: format!("reachguard/{}/us-east-1/load-{i}", account.id),
            ..template.clone()
        })
        .collect();
    let imported = SecurityHub::new(&account.config)
        .import(&findings)
        .await
        .expect("BatchImportFindings");
    assert_eq!(imported.imported, 250);
    assert!(imported.failed.is_empty(), "{:?}", imported.failed);
    assert!(imported.calls >= 3, "{} calls", imported.calls);
    let held = held(&account).await;
    assert_eq!(held.len(), 250);
    assert!(findings.iter().all(|f| held.contains_key(&f.id)));
}

#[tokio::test]
async fn a_refused_finding_is_retried_then_reported_and_the_others_are_imported() {
    let account = Account::new().await;
    let mut findings = example_findings(&account.id);
    // moto, like Security Hub, refuses a finding without resources (in FailedFindings).
    findings[0].resources.clear();
    let refused = findings[0].id.clone();
    let imported = SecurityHub::new(&account.config)
        .import(&findings)
        .await
        .expect("the call itself succeeds");
    assert_eq!(imported.imported, findings.len() - 1);
    assert_eq!(
        imported.calls, 3,
        "one call, then two retries of the refused finding"
    );
    assert_eq!(imported.failed.len(), 1);
    assert_eq!(imported.failed[0].id, refused);
    assert_eq!(imported.failed[0].code, "InvalidInput");
    let held = held(&account).await;
    assert_eq!(held.len(), findings.len() - 1);
    assert!(!held.contains_key(&refused));
}

#[tokio::test]
async fn workflow_updates_go_100_per_call_and_an_unprocessed_finding_is_retried_then_reported() {
    let account = Account::new().await;
    let template = example_findings(&account.id).remove(0);
    let findings: Vec<AsffFinding> = (0..150)
        .map(|i| AsffFinding {
            id: format!("reachguard/{}/us-east-1/suppressed-{i}", account.id),
            ..template.clone()
        })
        .collect();
    let unprocessed = findings[120].id.clone();
    let proxy = FaultProxy::start(
        moto_url(),
        Plan {
            unprocessed: vec![unprocessed.clone()],
            ..Plan::default()
        },
    )
    .await;
    let hub = SecurityHub::new(&account.through(&proxy.url).await);
    let updated = hub
        .set_workflow(&findings, WorkflowStatus::Suppressed)
        .await
        .expect("BatchUpdateFindings");
    assert_eq!(updated.updated, 149);
    assert_eq!(
        updated.calls, 4,
        "100 and 50 findings, then two retries of the unprocessed one"
    );
    assert_eq!(updated.failed.len(), 1, "{:?}", updated.failed);
    assert_eq!(updated.failed[0].id, unprocessed);
    assert_eq!(updated.failed[0].code, "FindingNotFound");
    let sizes: Vec<usize> = workflow_updates(&proxy, 0)
        .iter()
        .map(|(status, ids, _)| {
            assert_eq!(status, "SUPPRESSED");
            ids.len()
        })
        .collect();
    assert_eq!(sizes, [100, 50, 1, 1]);
}

/// A guard in `home` with the state table, the topic and the export on (and the member role).
async fn guard(home: &Account) -> Guard {
    guard_with(home, home.config.clone()).await
}

/// [`guard`], its calls made with `config` (e.g. through a fault proxy).
async fn guard_with(home: &Account, config: SdkConfig) -> Guard {
    home.create_state_table("reachguard-state").await;
    let topic = Topic::create(home, "reachguard-findings").await;
    let settings = Settings::from_env(&Env::from_pairs(&[
        ("REACHGUARD_TOPIC_ARN", &topic.arn),
        ("REACHGUARD_STATE_TABLE", "reachguard-state"),
        ("REACHGUARD_MEMBER_ROLE", "reachguard-member"),
        ("REACHGUARD_SECURITY_HUB", "true"),
    ]))
    .expect("settings");
    Guard::start(settings, config).await.expect("guard starts")
}

/// Runs `test` the way the Lambda binaries run the guard: on a main thread's 8 MiB stack
/// (`#[tokio::main]`). The test harness's threads have 2 MiB, which a whole debug-build
/// evaluation with the export outgrows.
fn on_a_main_thread_stack<F>(test: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    let thread = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(test())
        })
        .expect("thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_findings_lifecycle_is_one_security_hub_finding_opened_resolved_suppressed() {
    on_a_main_thread_stack(lifecycle);
}

async fn lifecycle() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let guard = guard(&account).await;
    let s3 = &broken.endpoints["s3"];
    let id =
        |rule_and_subject: String| format!("reachguard/{}/{REGION}/{rule_and_subject}", account.id);
    let not_associated = id(format!(
        "gateway-endpoint-not-associated|{s3}|{}",
        broken.route_table
    ));
    let s3_unreachable = id(format!(
        "unreachable-dependency|{}|{}|s3",
        broken.service_arn, broken.subnets[0]
    ));
    let dynamodb_unreachable = id(format!(
        "unreachable-dependency|{}|{}|dynamodb",
        broken.service_arn, broken.subnets[0]
    ));
    let state = |record: &str, compliance: &str, workflow: &str| {
        (
            record.to_string(),
            compliance.to_string(),
            workflow.to_string(),
            account.id.clone(),
        )
    };

    // Opened: one ASFF finding per finding, ACTIVE / FAILED / NEW.
    evaluate_account(&guard, &account).await;
    let opened = held(&account).await;
    assert_eq!(opened.len(), 5, "{opened:#?}");
    for id in [&not_associated, &s3_unreachable, &dynamodb_unreachable] {
        assert_eq!(opened[id], state("ACTIVE", "FAILED", "NEW"), "{id}");
    }

    // Fixed: the S3 gateway endpoint now serves the subnets' route table. The same Ids are
    // ARCHIVED / PASSED / RESOLVED; nothing new appears.
    account
        .ec2()
        .modify_vpc_endpoint()
        .vpc_endpoint_id(s3)
        .add_route_table_ids(&broken.route_table)
        .send()
        .await
        .expect("ModifyVpcEndpoint");
    evaluate_account(&guard, &account).await;
    let fixed = held(&account).await;
    assert_eq!(fixed.len(), 5, "{fixed:#?}");
    for id in [&not_associated, &s3_unreachable] {
        assert_eq!(fixed[id], state("ARCHIVED", "PASSED", "RESOLVED"), "{id}");
    }
    assert_eq!(
        fixed[&dynamodb_unreachable],
        state("ACTIVE", "FAILED", "NEW")
    );

    // Exempt: a `reachguard:exempt` tag on the VPC suppresses what still fires.
    seed::tag(&account, &broken.vpc, "reachguard:exempt", "all").await;
    evaluate_account(&guard, &account).await;
    let exempt = held(&account).await;
    assert_eq!(exempt.len(), 5, "{exempt:#?}");
    assert_eq!(
        exempt[&dynamodb_unreachable],
        state("ACTIVE", "FAILED", "SUPPRESSED")
    );
    assert_eq!(
        exempt[&not_associated],
        state("ARCHIVED", "PASSED", "RESOLVED")
    );
}

/// The `BatchUpdateFindings` requests `proxy` received from the `from`-th on, each as
/// (`Workflow.Status`, the `Id`s of its `FindingIdentifiers`, the request).
fn workflow_updates(proxy: &FaultProxy, from: usize) -> Vec<(String, Vec<String>, Value)> {
    proxy
        .bodies_for("BatchUpdateFindings")
        .into_iter()
        .skip(from)
        .map(|body| {
            let request: Value = serde_json::from_str(&body).expect("JSON request");
            let status = request["Workflow"]["Status"].as_str().unwrap_or_default();
            let ids = request["FindingIdentifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| i["Id"].as_str().unwrap_or_default().to_string())
                .collect();
            (status.to_string(), ids, request)
        })
        .collect()
}

/// Sets (`Some`) or removes (`None`) the `reachguard:exempt` tag of `vpc`.
async fn exempt(account: &Account, vpc: &str, value: Option<&str>) {
    let ec2 = account.ec2();
    let tag = aws_sdk_ec2::types::Tag::builder()
        .key("reachguard:exempt")
        .set_value(value.map(str::to_string))
        .build();
    if value.is_some() {
        let tagged = ec2.create_tags().resources(vpc).tags(tag).send().await;
        tagged.expect("CreateTags");
    } else {
        let untagged = ec2.delete_tags().resources(vpc).tags(tag).send().await;
        untagged.expect("DeleteTags");
    }
}

#[test]
fn an_exempt_finding_is_suppressed_with_batch_update_findings_and_reopened_without_its_tag() {
    on_a_main_thread_stack(workflow_updates_of_the_lifecycle);
}

async fn workflow_updates_of_the_lifecycle() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let guard = guard_with(&account, account.through(&proxy.url).await).await;
    let product_arn = format!(
        "arn:aws:securityhub:{REGION}:{0}:product/{0}/default",
        account.id
    );

    // Opened: the new findings' workflow is set to NEW; nothing is suppressed.
    evaluate_account(&guard, &account).await;
    let opened = workflow_updates(&proxy, 0);
    let ids: Vec<String> = held(&account).await.into_keys().collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert_eq!(opened.len(), 1, "{opened:#?}");
    assert_eq!(opened[0].0, "NEW");
    let mut updated = opened[0].1.clone();
    updated.sort();
    assert_eq!(updated, ids);
    assert!(
        opened.iter().all(|(status, _, _)| status != "SUPPRESSED"),
        "nothing is suppressed: {opened:#?}"
    );

    // Exempt: exactly one BatchUpdateFindings, SUPPRESSED, for every finding, by Id and
    // ProductArn, with a note naming the tag.
    exempt(&account, &broken.vpc, Some("all")).await;
    evaluate_account(&guard, &account).await;
    let suppressed = workflow_updates(&proxy, opened.len());
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    let (status, mut updated, request) = suppressed[0].clone();
    assert_eq!(status, "SUPPRESSED");
    updated.sort();
    assert_eq!(updated, ids);
    for identifier in request["FindingIdentifiers"]
        .as_array()
        .expect("identifiers")
    {
        assert_eq!(identifier["ProductArn"], json!(product_arn), "{identifier}");
    }
    let note = request["Note"]["Text"].as_str().unwrap_or_default();
    assert!(note.contains("reachguard:exempt"), "{note}");
    assert_eq!(request["Note"]["UpdatedBy"], json!("reachguard"));

    // The tag removed: the findings open again, and their workflow goes back to NEW.
    exempt(&account, &broken.vpc, None).await;
    evaluate_account(&guard, &account).await;
    let reopened = workflow_updates(&proxy, opened.len() + suppressed.len());
    assert_eq!(reopened.len(), 1, "{reopened:#?}");
    let (status, mut updated, _) = reopened[0].clone();
    assert_eq!(status, "NEW");
    updated.sort();
    assert_eq!(updated, ids);
}

#[test]
fn a_member_accounts_findings_are_imported_in_the_member_account() {
    on_a_main_thread_stack(member_account);
}

async fn member_account() {
    let home = Account::new().await;
    let member = Account::new().await;
    let broken = seed::broken(&member).await;
    let guard = guard(&home).await;
    evaluate_account(&guard, &member).await;
    let in_member = held(&member).await;
    assert_eq!(in_member.len(), 5, "{in_member:#?}");
    for (id, (_, _, _, account)) in &in_member {
        assert_eq!(account, &member.id, "{id}");
        assert!(id.starts_with(&format!("reachguard/{}/{REGION}/", member.id)));
    }
    assert!(
        in_member.keys().any(|id| id.contains(&broken.service_arn)),
        "{in_member:#?}"
    );
    assert!(
        held(&home).await.is_empty(),
        "nothing under the home account"
    );
}

/// The real `service-events` Lambda, with `REACHGUARD_SECURITY_HUB=true` and no state table:
/// an ECS event in a member account imports that account's findings there, opened.
#[tokio::test(flavor = "multi_thread")]
async fn the_service_events_lambda_imports_a_member_accounts_findings() {
    let home = Account::new().await;
    let member = Account::new().await;
    let broken = seed::broken(&member).await;
    let topic = Topic::create(&home, "findings").await;
    let mut env = home.cli_env();
    env.push(("REACHGUARD_TOPIC_ARN", topic.arn.clone()));
    env.push(("REACHGUARD_MEMBER_ROLE", "reachguard-member".into()));
    env.push(("REACHGUARD_SECURITY_HUB", "true".into()));
    let lambda = Lambda::start("service-events", &env).await;
    let event = crate::lambdas::create_service_event(&member.id, &broken);
    lambda
        .invoke(&event)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", lambda.logs()));
    let in_member = held(&member).await;
    assert_eq!(in_member.len(), 5, "{in_member:#?}\n{}", lambda.logs());
    for (id, held_state) in &in_member {
        let expected = ("ACTIVE", "FAILED", "NEW", member.id.as_str());
        let got = (
            held_state.0.as_str(),
            held_state.1.as_str(),
            held_state.2.as_str(),
            held_state.3.as_str(),
        );
        assert_eq!(got, expected, "{id}");
    }
    assert!(held(&home).await.is_empty());
    assert!(
        lambda
            .log_records()
            .iter()
            .any(|r| r["fields"]["message"] == "exported to Security Hub"
                && r["fields"]["imported"] == 5),
        "{}",
        lambda.logs()
    );
}

/// Both templates grant, in one conditional policy each, `securityhub:BatchImportFindings` on the
/// account's own default product and `securityhub:BatchUpdateFindings` (the workflow) on the
/// account's own hub, and nothing of Security Hub otherwise.
#[test]
fn the_templates_grant_the_import_only_when_enabled_and_only_on_the_default_product() {
    let grants = [
        (
            "securityhub:BatchImportFindings",
            "arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default",
        ),
        (
            "securityhub:BatchUpdateFindings",
            "arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default",
        ),
    ];
    for (file, policy, condition) in [
        (
            "template.yaml",
            "SecurityHubImportPolicy",
            "ExportsToSecurityHub",
        ),
        (
            "member-account.yaml",
            "MemberSecurityHubImportPolicy",
            "ImportsToSecurityHub",
        ),
    ] {
        let template = crate::template::load(file);
        let parameter = &template["Parameters"]["SecurityHub"];
        assert_eq!(parameter["Default"].as_str(), Some("false"), "{file}");
        let resource = &template["Resources"][policy];
        assert_eq!(resource["Condition"].as_str(), Some(condition), "{file}");
        let statements = resource["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .expect("statements");
        assert_eq!(statements.len(), grants.len(), "{file}");
        for (statement, (action, arn)) in statements.iter().zip(grants) {
            assert_eq!(statement["Action"].as_str(), Some(action), "{file}");
            let scope = format!("{:?}", statement["Resource"]);
            assert!(scope.contains(arn), "{file}: {action} on {scope}");
        }
        let text =
            std::fs::read_to_string(format!("{}/../infra/{file}", env!("CARGO_MANIFEST_DIR")))
                .expect("template");
        assert_eq!(
            text.matches(" securityhub:").count(),
            grants.len(),
            "{file}: these grants only"
        );
    }
    let central = crate::template::load("template.yaml");
    let variable =
        &central["Globals"]["Function"]["Environment"]["Variables"]["REACHGUARD_SECURITY_HUB"];
    assert!(
        format!("{variable:?}").contains("SecurityHub"),
        "{variable:?}"
    );
}
