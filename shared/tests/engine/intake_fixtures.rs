//! The event intake on real payloads (the team's reference fixtures, read in place) and on our
//! own fixtures authored from the AWS documentation's shapes (`tests/fixtures/events`, with the
//! exact expected `reachguard event` lines in `tests/fixtures/expected`).
use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use reachguard_shared::intake::{
    self, Decision, IgnoreReason, LoopGuard, TRIGGERS, catalog::API_CALL_DETAIL_TYPE,
};
use serde_json::{Value, json};

/// The team's reference fixtures, beside the repository (never copied into it): `None`, after
/// one line saying so, on a clone without them.
fn team_fixtures() -> Option<PathBuf> {
    reachguard_test_support::shared_folder("fixtures/events")
}
const OWN_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");
const OWN_EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/expected");

/// The guard every fixture runs under: a network-events function, its member role, and one
/// ignored principal pattern.
fn guard() -> LoopGuard {
    LoopGuard::from_settings(
        Some(
            "arn:aws:sts::111122223333:assumed-role/reachguard-network-events/reachguard-network-events",
        ),
        Some("ReachguardMember"),
        Some("arn:aws:iam::111122223333:role/platform/automation-*"),
    )
}

#[derive(Debug)]
enum Expect {
    Evaluate(Value),
    Ignore(&'static str),
}

use Expect::{Evaluate, Ignore};

/// Every team fixture and what it must become (scope exactly, or the reason's category).
fn team_expectations() -> Vec<(&'static str, Expect)> {
    let service =
        json!({"services": ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"]});
    vec![
        (
            "aws-lambda-dotnet__ECSTaskStateChange__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "aws-lambda-rust-runtime__CreateManagedAccount__assumed-role-1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "aws-lambda-rust-runtime__Federate__null-params-1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "aws-mit0-route-monitor__CreateRoute__envelope-1.json",
            Evaluate(json!({"route_tables": ["rtb-xxx"], "internet_gateways": ["igw-xxx"]})),
        ),
        (
            "awsdocs-cloudtrail__StopInstances__logfile-1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-cloudtrail__UpdateTrail__error-1.json",
            Ignore("failed"),
        ),
        (
            "awsdocs-ecs__CreateCluster__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSContainerInstanceStateChange__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSDeploymentStateChange-COMPLETED__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSDeploymentStateChange-FAILED__1.json",
            Evaluate(service.clone()),
        ),
        (
            "awsdocs-ecs__ECSDeploymentStateChange-IN_PROGRESS__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSDeploymentStateChange-IN_PROGRESS__2.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSServiceAction-CAPACITY_PROVIDER_STEADY_STATE__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSServiceAction-SERVICE_STEADY_STATE__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSServiceAction-SERVICE_TASK_PLACEMENT_FAILURE__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSServiceAction-SERVICE_TASK_PLACEMENT_FAILURE__2.json",
            Ignore("not-a-trigger"),
        ),
        (
            "awsdocs-ecs__ECSServiceAction-SERVICE_TASK_START_IMPAIRED__1.json",
            Evaluate(service),
        ),
        (
            "awsdocs-ecs__ECSTaskStateChange__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "cloudzero-interview-pairing__CreateNatGateway__1.json",
            Evaluate(
                json!({"vpcs": ["vpc-abababab"], "subnets": ["subnet-ababab"],
                "nat_gateways": ["nat-00000001111111111"]}),
            ),
        ),
        (
            "cloudzero-interview-pairing__CreateRouteTable__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "custodian__DeleteTransitGatewayVpcAttachment__1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "custodian__RunInstances__assumed-role-1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "custodian__RunInstances__autoscaling-1.json",
            Ignore("not-a-trigger"),
        ),
        (
            "datadog-securitylabs__CreateService__excerpt-1.json",
            Evaluate(json!({"services": ["[random string]/[random string]-service"]})),
        ),
        (
            "elastic-integrations__AuthorizeSecurityGroupIngress__1.json",
            Evaluate(json!({"security_groups": ["sg-0f63fecfa17ef4fee"]})),
        ),
        (
            "panther__AuthorizeSecurityGroupIngress__panther-normalized-1.json",
            Evaluate(json!({"security_groups": ["sg-04f0b44316f7d2471"]})),
        ),
        (
            "panther__AuthorizeSecurityGroupIngress__sdk-go-1.json",
            Evaluate(json!({"security_groups": ["sg-0d921df5d84f7270a"]})),
        ),
        (
            "panther__CreateRoute__1.json",
            Evaluate(json!({"route_tables": ["rtb-1"], "internet_gateways": ["igw-1"]})),
        ),
        ("panther__CreateRoute__error-1.json", Ignore("failed")),
        (
            "permiso-ccc__AuthorizeSecurityGroupIngress__1.json",
            Evaluate(json!({"security_groups": ["sg-db0c0ffee1fa9c4e4"]})),
        ),
        (
            "permiso-ccc__AuthorizeSecurityGroupIngress__2.json",
            Evaluate(json!({"security_groups": ["sg-db0c0ffeec0e67ce0"]})),
        ),
        (
            "permiso-ccc__CreateVpcEndpoint__interface-1.json",
            Evaluate(
                json!({"vpcs": ["vpc-db0c0ffee56bc40db"], "endpoints": ["vpce-db0c0ffee984e07fa"],
                "security_groups": ["sg-db0c0ffee64dcb055"]}),
            ),
        ),
        (
            "permiso-ccc__DescribeRouteTables__readonly-1.json",
            Ignore("read-only"),
        ),
        (
            "permiso-ccc__DescribeSubnets__readonly-1.json",
            Ignore("read-only"),
        ),
        (
            "permiso-ccc__DescribeVpcEndpoints__readonly-1.json",
            Ignore("read-only"),
        ),
        ("permiso-ccc__RunInstances__error-1.json", Ignore("failed")),
        (
            "sekoia__CreateInstanceExportTask__error-1.json",
            Ignore("failed"),
        ),
        (
            "stratus-red-team__AuthorizeSecurityGroupIngress__1.json",
            Evaluate(json!({"security_groups": ["sg-003dc7f1f1c686164"]})),
        ),
    ]
}

fn category(reason: &IgnoreReason) -> &'static str {
    match reason {
        IgnoreReason::Failed { .. } => "failed",
        IgnoreReason::ReadOnly => "read-only",
        IgnoreReason::NotATrigger { .. } | IgnoreReason::DetailNotARecord => "not-a-trigger",
        IgnoreReason::LoopGuard { .. } => "loop-guard",
        IgnoreReason::NoReachguardTag
        | IgnoreReason::NoTaggedNetworkResource
        | IgnoreReason::NotAService { .. } => "tag-not-ours",
    }
}

fn json_files(dir: &Path) -> BTreeSet<String> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()));
    entries
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect()
}

fn decide_file(path: &Path) -> Vec<Decision> {
    let input =
        fs::read(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    intake::decide(&input, &guard()).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A line is exactly the INTERFACES.md shape.
fn assert_well_formed(line: &Value, file: &str) {
    let keys: Vec<&str> = line
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = match line["action"].as_str() {
        Some("evaluate") => vec![
            "action",
            "account",
            "region",
            "event_name",
            "event_id",
            "scope",
        ],
        Some("ignore") => vec!["action", "event_name", "reason"],
        other => panic!("{file}: action {other:?}"),
    };
    expected_keys.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected_keys, "{file}: {line}");
    if let Some(scope) = line.get("scope").and_then(Value::as_object) {
        assert!(!scope.is_empty(), "{file}: empty scope");
        for (key, ids) in scope {
            if key == "account_region" {
                assert_eq!(ids, &json!(true), "{file}");
            } else {
                let ids = ids.as_array().expect("a list");
                assert!(
                    !ids.is_empty() && ids.iter().all(Value::is_string),
                    "{file}: {key}"
                );
            }
        }
    }
    if line["action"] == "ignore" {
        assert!(
            line["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{file}"
        );
    }
}

#[test]
fn team_fixtures_read_in_place() {
    let Some(team_fixtures) = team_fixtures() else {
        return;
    };
    let expectations = team_expectations();
    let listed: BTreeSet<String> = expectations
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(
        listed.len(),
        expectations.len(),
        "a fixture is listed twice"
    );
    assert_eq!(
        json_files(&team_fixtures),
        listed,
        "the table and the team's fixtures folder list different files"
    );
    for (name, expect) in expectations {
        let decisions = decide_file(&team_fixtures.join(name));
        let [decision] = decisions.as_slice() else {
            panic!("{name}: {} events, expected 1", decisions.len());
        };
        let line: Value =
            serde_json::from_str(&serde_json::to_string(decision).expect("serialises"))
                .expect("a JSON line");
        assert_well_formed(&line, name);
        match (expect, decision) {
            (Evaluate(scope), Decision::Evaluate { scope: actual, .. }) => {
                assert_eq!(
                    serde_json::to_value(actual).expect("scope"),
                    scope,
                    "{name}"
                );
            }
            (Ignore(expected), Decision::Ignore { reason, .. }) => {
                assert_eq!(category(reason), expected, "{name}: {reason}");
            }
            (expect, decision) => panic!("{name}: expected {expect:?}, got {decision:?}"),
        }
    }
}

#[test]
fn own_fixtures_give_exactly_the_expected_lines() {
    let fixtures = json_files(Path::new(OWN_FIXTURES));
    let expected_files: BTreeSet<String> = fs::read_dir(OWN_EXPECTED)
        .expect("expected folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let wanted: BTreeSet<String> = fixtures
        .iter()
        .map(|name| name.replace(".json", ".jsonl"))
        .collect();
    assert_eq!(
        expected_files, wanted,
        "every fixture has exactly one expected file"
    );
    for name in &fixtures {
        let decisions = decide_file(&Path::new(OWN_FIXTURES).join(name));
        let expected_path: PathBuf = Path::new(OWN_EXPECTED).join(name.replace(".json", ".jsonl"));
        let expected = fs::read_to_string(&expected_path).expect("expected lines");
        let expected: Vec<Value> = expected
            .lines()
            .map(|line| serde_json::from_str(line).expect("an expected JSON line"))
            .collect();
        let actual: Vec<Value> = decisions
            .iter()
            .map(|decision| {
                let line = serde_json::to_string(decision).expect("serialises");
                assert!(!line.contains('\n'));
                serde_json::from_str(&line).expect("a JSON line")
            })
            .collect();
        actual
            .iter()
            .for_each(|line| assert_well_formed(line, name));
        assert_eq!(actual, expected, "{name}");
    }
}

/// Every trigger of the catalog is exercised by at least one fixture that evaluates it.
#[test]
fn every_trigger_has_a_fixture() {
    let Some(team_fixtures) = team_fixtures() else {
        return;
    };
    let mut evaluated = BTreeSet::new();
    for dir in [team_fixtures.as_path(), Path::new(OWN_FIXTURES)] {
        for name in json_files(dir) {
            for decision in decide_file(&dir.join(name)) {
                if let Decision::Evaluate { event_name, .. } = decision {
                    evaluated.insert(event_name);
                }
            }
        }
    }
    let missing: Vec<&str> = TRIGGERS
        .iter()
        .map(|trigger| trigger.event_name)
        .filter(|name| !evaluated.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "triggers without an evaluating fixture: {missing:?}"
    );
}

/// The catalog covers every name in EVENTS.md's trigger table (read in place), and nothing
/// that is not there.
#[test]
fn catalog_matches_events_md() {
    let Some(guide) = reachguard_test_support::shared_folder("guide") else {
        return;
    };
    let events_md = fs::read_to_string(guide.join("EVENTS.md")).expect("the guide's EVENTS.md");
    let mut documented = BTreeSet::new();
    for row in events_md.lines().filter(|line| {
        ["| ec2 ", "| ecs ", "| ECS "]
            .iter()
            .any(|start| line.starts_with(start))
    }) {
        let first_cell = row.split('|').nth(1).unwrap_or_default();
        for (index, quoted) in first_cell.split('`').enumerate() {
            if index % 2 == 1 && !quoted.contains(':') {
                documented.insert(quoted.to_owned());
            }
        }
    }
    let catalog: BTreeSet<String> = TRIGGERS
        .iter()
        .flat_map(|trigger| {
            let native =
                (trigger.detail_type != API_CALL_DETAIL_TYPE).then_some(trigger.detail_type);
            [Some(trigger.event_name), native]
                .into_iter()
                .flatten()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(documented, catalog);
}
