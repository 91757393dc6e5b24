//! The repository documents its own contract: the checked-in `docs/rules.md` and
//! `docs/schema/*.json` are exactly what the code generates, and the schemas accept the real
//! documents — the bundled example snapshots, their findings JSON and a notification of those
//! findings — and reject broken ones.

use std::fs;
use std::path::Path;

use reachguard_shared::evaluate::{Report, evaluate};
use reachguard_shared::model::Topology;
use reachguard_shared::names::VariantArray;
use reachguard_shared::notification::{Notification, RemediationNote, Status, Transition, Trigger};
use reachguard_shared::rule_docs;
use reachguard_shared::schema::Document;
use reachguard_shared::snapshot::Snapshot;
use serde_json::{Value, json};

const REPOSITORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const EXAMPLES: [&str; 3] = [
    "examples/broken-vpc.json",
    "examples/endpoint-only-vpc.json",
    "examples/nat-only-vpc.json",
];
/// How to regenerate, from the repository root.
const CLI: &str = "cargo run -q -p reachguard-cli --no-default-features --";

/// Fails unless the checked-in `path` is `generated`, naming the first differing line and the
/// command that rewrites the file.
fn assert_checked_in(path: &str, generated: &str, arguments: &str) {
    let checked_in = fs::read_to_string(Path::new(REPOSITORY).join(path)).unwrap_or_default();
    if checked_in == generated {
        return;
    }
    let (line, ours, theirs) = checked_in
        .lines()
        .chain(std::iter::repeat(""))
        .zip(generated.lines().chain(std::iter::repeat("")))
        .enumerate()
        .find(|(_, (ours, theirs))| ours != theirs)
        .map(|(index, (ours, theirs))| (index + 1, ours, theirs))
        .unwrap_or_default();
    panic!(
        "{path} is not what the code generates (line {line}: checked in {ours:?}, generated \
         {theirs:?}); regenerate it from the repository root with\n    {CLI} {arguments} > {path}"
    );
}

#[test]
fn docs_rules_md_is_generated_from_the_rules() {
    assert_checked_in(
        rule_docs::REFERENCE_PAGE,
        &rule_docs::reference_page(),
        "rules --format docs",
    );
}

#[test]
fn docs_schemas_are_generated_from_the_types() {
    for &document in Document::VARIANTS {
        assert_checked_in(
            &document.path(),
            &document.schema(),
            &format!("schema {}", document.as_str()),
        );
    }
}

fn validator(document: Document) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&document.schema()).expect("a schema is JSON");
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{} is not a valid JSON Schema: {e}", document.as_str()))
}

/// The schema's complaints about `instance`, one line each (empty when it is valid).
fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect()
}

fn report_of(example: &str) -> (Value, Report) {
    let text = fs::read_to_string(Path::new(REPOSITORY).join(example)).expect("example file");
    let snapshot = Snapshot::from_json(&text).expect("example snapshot");
    let topology = Topology::from_snapshot(&snapshot).expect("example topology");
    let snapshot: Value = serde_json::from_str(&text).expect("example JSON");
    (snapshot, evaluate(&topology))
}

/// A notification announcing every finding of `report`, the first with a remediation note.
fn notification_of(report: &Report) -> Notification {
    let transitions = report
        .findings
        .iter()
        .enumerate()
        .map(|(index, finding)| Transition {
            status: if index == 0 {
                Status::Remediated
            } else {
                Status::Opened
            },
            finding: finding.clone(),
            remediation: (index == 0).then(|| RemediationNote {
                action: "enable-private-dns".into(),
                outcome: "applied".into(),
                detail: "private DNS enabled".into(),
            }),
        })
        .collect();
    Notification {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        vpc: "vpc-1".into(),
        trigger: Trigger {
            event_name: Some("CreateRoute".into()),
            event_id: None,
        },
        transitions,
        part: None,
    }
}

#[test]
fn the_examples_their_findings_and_a_notification_match_the_schemas() {
    let [findings, notification, snapshot] = [
        Document::Findings,
        Document::Notification,
        Document::Snapshot,
    ]
    .map(validator);
    let mut announced = 0;
    for example in EXAMPLES {
        let (input, report) = report_of(example);
        assert_eq!(
            violations(&snapshot, &input),
            Vec::<String>::new(),
            "{example}"
        );
        let written = serde_json::to_value(&report).expect("report JSON");
        assert_eq!(
            violations(&findings, &written),
            Vec::<String>::new(),
            "the findings of {example}"
        );
        let message = serde_json::to_value(notification_of(&report)).expect("notification");
        assert_eq!(
            violations(&notification, &message),
            Vec::<String>::new(),
            "a notification of {example}'s findings"
        );
        announced += report.findings.len();
    }
    assert!(
        announced > 20,
        "the examples give findings to check: {announced}"
    );
}

/// The schemas are not vacuous: each rejects a document with a wrong member.
#[test]
fn the_schemas_reject_broken_documents() {
    let (input, report) = report_of(EXAMPLES[0]);
    let written = serde_json::to_value(&report).expect("report JSON");
    let message = serde_json::to_value(notification_of(&report)).expect("notification");
    let cases: [(Document, Value, &str, Value); 6] = [
        (
            Document::Findings,
            written.clone(),
            "/findings/0/rule",
            json!("no-such-rule"),
        ),
        (
            Document::Findings,
            written.clone(),
            "/findings/0/severity",
            json!("urgent"),
        ),
        (
            Document::Findings,
            written,
            "/summary",
            json!({"services": -1}),
        ),
        (
            Document::Notification,
            message.clone(),
            "/transitions/0/status",
            json!("fixed"),
        ),
        (
            Document::Notification,
            message,
            "/trigger",
            json!("CreateRoute"),
        ),
        (Document::Snapshot, input, "/Subnets/0/SubnetId", json!(7)),
    ];
    for (document, mut instance, pointer, wrong) in cases {
        *instance
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} exists")) = wrong.clone();
        assert!(
            !violations(&validator(document), &instance).is_empty(),
            "the {} schema accepts {pointer} = {wrong}",
            document.as_str()
        );
    }
}
