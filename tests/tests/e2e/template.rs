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

/// The value of a CloudFormation condition function (`Fn::Equals`, `Fn::Not`, `Fn::And`,
/// `Fn::Or`, `Condition`: what the templates' `Conditions` use) when the parameters and pseudo
/// parameters (`AWS::AccountId`, `AWS::Region`) have the values `given`.
fn holds(template: &Value, expression: &Value, given: &BTreeMap<&str, &str>) -> bool {
    let Value::Tagged(function) = expression else {
        panic!("not a condition function: {expression:?}");
    };
    let arguments = function.value.as_sequence();
    let each = || arguments.into_iter().flatten();
    let tag = &function.tag;
    if *tag == "Equals" {
        let values: Vec<String> = each().map(|v| scalar(v, given)).collect();
        values.len() == 2 && values[0] == values[1]
    } else if *tag == "Not" {
        !each().all(|v| holds(template, v, given))
    } else if *tag == "And" {
        each().all(|v| holds(template, v, given))
    } else if *tag == "Or" {
        each().any(|v| holds(template, v, given))
    } else if *tag == "Condition" {
        let name = function.value.as_str().expect("a condition name");
        holds(template, &template["Conditions"][name], given)
    } else {
        panic!("{tag} is not evaluated here")
    }
}

/// A `!Ref` to a given parameter, or a literal.
fn scalar(value: &Value, given: &BTreeMap<&str, &str>) -> String {
    if let Some(name) = referenced(value) {
        return given
            .get(name)
            .unwrap_or_else(|| panic!("no value given for {name}"))
            .to_string();
    }
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// What a `!Ref` names.
fn referenced(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// What a `!GetAtt X.Attribute` names: (X, Attribute).
fn attribute_of(value: &Value) -> Option<(&str, &str)> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str()?.split_once('.'),
        _ => None,
    }
}

fn named_condition(template: &Value, name: &str, given: &[(&str, &str)]) -> bool {
    let given = given.iter().copied().collect();
    holds(template, &template["Conditions"][name], &given)
}

/// Issue 11: the central account's events from its other regions were never forwarded.
#[test]
fn every_member_instance_forwards_but_the_central_accounts_central_region() {
    let template = load("member-account.yaml");
    let (central, member) = ("111122223333", "444455556666");
    for (account, region, forwards) in [
        (central, "us-east-1", false),
        (central, "eu-west-1", true),
        (member, "us-east-1", true),
        (member, "eu-west-1", true),
    ] {
        let given = [
            ("CentralAccountId", central),
            ("CentralRegion", "us-east-1"),
            ("AWS::AccountId", account),
            ("AWS::Region", region),
        ];
        assert_eq!(
            named_condition(&template, "ForwardEvents", &given),
            forwards,
            "{account} in {region}"
        );
    }
    for (id, resource) in resources(&template) {
        if id.starts_with("Forward") {
            assert_eq!(resource["Condition"], "ForwardEvents", "{id}");
        }
    }
}

/// One parameter, `Regions`, says which regions the sweep evaluates, which regions' events the
/// event functions accept (every function's `REACHGUARD_REGIONS`, from the globals) and (through
/// the stack's output, README Deploy) where the member StackSet's instances go.
#[test]
fn the_sweep_and_the_member_stackset_share_one_region_list() {
    let template = load("template.yaml");
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(referenced(&globals["REACHGUARD_REGIONS"]), Some("Regions"));
    for (id, resource) in resources(&template) {
        if resource["Type"] == "AWS::Serverless::Function" {
            let own = &resource["Properties"]["Environment"]["Variables"]["REACHGUARD_REGIONS"];
            assert!(own.is_null(), "{id} overrides REACHGUARD_REGIONS");
        }
    }
    let Value::Tagged(output) = &template["Outputs"]["Regions"]["Value"] else {
        panic!("Outputs.Regions: an !If");
    };
    assert!(output.tag == "If");
    let [condition, set, unset] = output.value.as_sequence().expect("If").as_slice() else {
        panic!("Outputs.Regions: !If [condition, then, else]");
    };
    assert_eq!(
        (referenced(set), referenced(unset)),
        (Some("Regions"), Some("AWS::Region"))
    );
    let condition = condition.as_str().expect("a condition name");
    assert!(named_condition(
        &template,
        condition,
        &[("Regions", "us-east-1,eu-west-1")]
    ));
    assert!(!named_condition(&template, condition, &[("Regions", "")]));
}

/// Each event function reserves `EventConcurrency`, unless it is 0.
#[test]
fn event_functions_reserve_the_event_concurrency() {
    let template = load("template.yaml");
    let mut event_functions = 0;
    for (id, resource) in resources(&template) {
        let events = resource["Properties"]["Events"].as_mapping();
        let on_rules = events
            .into_iter()
            .flatten()
            .any(|(_, event)| event["Type"] == "EventBridgeRule");
        if !on_rules {
            continue;
        }
        event_functions += 1;
        let Value::Tagged(reserved) = &resource["Properties"]["ReservedConcurrentExecutions"]
        else {
            panic!("{id}: ReservedConcurrentExecutions");
        };
        assert!(reserved.tag == "If", "{id}");
        let [condition, reserve, none] = reserved.value.as_sequence().expect("If").as_slice()
        else {
            panic!("{id}: !If [condition, then, else]");
        };
        assert_eq!(
            (referenced(reserve), referenced(none)),
            (Some("EventConcurrency"), Some("AWS::NoValue")),
            "{id}"
        );
        let condition = condition.as_str().expect("a condition name");
        for (value, reserves) in [("0", false), ("10", true)] {
            assert_eq!(
                named_condition(&template, condition, &[("EventConcurrency", value)]),
                reserves,
                "{id}: EventConcurrency={value}"
            );
        }
    }
    assert_eq!(event_functions, 2);
}

/// Every queue that holds what failed (the failure queue, every dead-letter queue, each rule's
/// included) and every function's errors raise an alarm on the operations topic.
#[test]
fn failures_raise_alarms() {
    let template = load("template.yaml");
    let all = resources(&template);
    let alarms: Vec<(&str, &str, &Value)> = all
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, r)| {
            let properties = &r["Properties"];
            assert!(
                properties["AlarmActions"]
                    .as_sequence()
                    .is_some_and(|actions| actions
                        .iter()
                        .any(|a| referenced(a) == Some("OpsTopic"))),
                "{id}: alarms the ops topic"
            );
            let dimension = &properties["Dimensions"][0];
            (
                properties["MetricName"].as_str().expect("MetricName"),
                dimension["Name"].as_str().expect("a dimension"),
                &dimension["Value"],
            )
        })
        .collect();
    let alarmed = |metric: &str, dimension: &str, target: &str| {
        alarms.iter().any(|(m, d, value)| {
            *m == metric
                && *d == dimension
                && (referenced(value) == Some(target)
                    || attribute_of(value) == Some((target, "QueueName")))
        })
    };

    let mut work_queues = BTreeSet::new();
    let mut dead_letter_queues = BTreeSet::new();
    for (id, resource) in &all {
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            if event["Type"] == "SQS" {
                let (queue, _) = attribute_of(&event["Properties"]["Queue"]).expect("a queue");
                work_queues.insert(queue.to_owned());
            }
            if event["Type"] == "EventBridgeRule" {
                let (queue, _) = attribute_of(&event["Properties"]["DeadLetterConfig"]["Arn"])
                    .unwrap_or_else(|| panic!("{id}: a dead-letter queue of the template"));
                dead_letter_queues.insert(queue.to_owned());
            }
        }
    }
    let mut queues = 0;
    for (id, resource) in &all {
        if resource["Type"] == "AWS::SQS::Queue" && !work_queues.contains(id) {
            queues += 1;
            assert!(
                alarmed("ApproximateNumberOfMessagesVisible", "QueueName", id),
                "no alarm on {id}"
            );
        }
        if resource["Type"] == "AWS::Serverless::Function" {
            assert!(alarmed("Errors", "FunctionName", id), "no alarm on {id}");
        }
    }
    assert!(
        dead_letter_queues
            .iter()
            .all(|q| all.iter().any(|(id, _)| id == q))
    );
    assert_eq!(
        queues,
        2 + dead_letter_queues.len(),
        "failure, sweep DLQ, rules' DLQs"
    );
}

/// Every ARN the templates build is in the stack's partition (`${AWS::Partition}`), never a
/// literal `arn:aws:` (China, GovCloud).
#[test]
fn templates_build_arns_in_the_stacks_partition() {
    for name in ["template.yaml", "member-account.yaml"] {
        let path = format!("{ROOT}/infra/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (number, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("arn:") {
                assert!(
                    line[at..].starts_with("arn:${AWS::Partition}:"),
                    "{name}:{}: {line}",
                    number + 1
                );
            }
        }
    }
}
