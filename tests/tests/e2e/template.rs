//! The SAM templates against the code: every EventBridge pattern in `infra/template.yaml` (the
//! functions' rules) and `infra/member-account.yaml` (the forwarding rules) is exactly what the
//! shared crate's trigger catalog renders, every crate under `functions/` is a function of the
//! template and vice versa, and each function is built and run the way the README says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reachguard_shared::intake::event_patterns;
use serde_json::Value as Json;
use serde_norway::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

pub(crate) fn load(name: &str) -> Value {
    let path = format!("{ROOT}/infra/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(id, r)| (id.as_str().expect("logical id").to_owned(), r))
        .collect()
}

/// `ec2-api-calls` → `Ec2ApiCalls`.
fn pascal(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A pattern as JSON (patterns hold no CloudFormation tags, so this fails if one sneaks in).
fn json(pattern: &Value) -> Json {
    serde_json::to_value(pattern).expect("a plain pattern")
}

fn catalog() -> BTreeMap<String, Json> {
    event_patterns()
        .as_object()
        .expect("patterns object")
        .iter()
        .map(|(name, pattern)| (pascal(name), pattern.clone()))
        .collect()
}

#[test]
fn function_rules_use_exactly_the_catalog_patterns() {
    let template = load("template.yaml");
    let mut rules = BTreeMap::new();
    for (_, resource) in resources(&template) {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        for (key, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            if event["Type"] == "EventBridgeRule" {
                let key = key.as_str().expect("event key").to_owned();
                let previous = rules.insert(key.clone(), json(&event["Properties"]["Pattern"]));
                assert!(previous.is_none(), "{key} appears twice");
            }
        }
    }
    assert_eq!(rules, catalog());
}

#[test]
fn member_accounts_forward_exactly_the_catalog_patterns() {
    let template = load("member-account.yaml");
    let forwarded: BTreeMap<String, Json> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .map(|(id, r)| {
            let name = id
                .strip_prefix("Forward")
                .expect("Forward<Pattern>")
                .to_owned();
            (name, json(&r["Properties"]["EventPattern"]))
        })
        .collect();
    assert_eq!(forwarded, catalog());
}

#[test]
fn every_function_crate_is_a_template_function_and_vice_versa() {
    let template = load("template.yaml");
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(
        json(&globals["Architectures"]),
        serde_json::json!(["arm64"])
    );
    let mut in_template = BTreeSet::new();
    for (id, resource) in resources(&template) {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}"
        );
        assert_eq!(
            resource["Properties"]["CodeUri"], "..",
            "{id}: the workspace root"
        );
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"));
        assert!(in_template.insert(binary.to_owned()), "{binary} twice");
    }

    let mut crates = BTreeSet::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("functions")).expect("functions/") {
        let dir = entry.expect("entry").path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "functions/{name}: the package (and so its binary) must be named {name}"
        );
        crates.insert(name.to_owned());
    }
    assert_eq!(crates, in_template);

    let root = std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).expect("Cargo.toml");
    for name in &crates {
        assert!(
            root.contains(&format!("\"functions/{name}\"")),
            "{name} is not a workspace member"
        );
    }
}

#[test]
fn the_functions_may_call_every_state_table_operation() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .unwrap();
    let granted: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("dynamodb:"))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':')))
        .filter_map(|w| w.strip_prefix("dynamodb:"))
        .collect();
    for operation in reachguard_shared::aws::state::OPERATIONS {
        assert!(
            granted.contains(&operation),
            "infra/template.yaml does not grant dynamodb:{operation}: {granted:?}"
        );
    }
}
