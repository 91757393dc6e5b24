//! The catalog's EventBridge patterns (what `reachguard patterns` prints and the templates' rules
//! hold) matched against events by Quamina (the `quamina` crate), an implementation of
//! EventBridge's pattern language: every event the intake evaluates is delivered, and a tagging
//! call is delivered only when it names a `reachguard:` key, so other tag changes in the
//! organisation never invoke a function.
use std::path::{Path, PathBuf};

use quamina::Quamina;
use reachguard_shared::intake::{
    self, Decision, Event, IgnoreReason, LoopGuard,
    catalog::{API_CALL_DETAIL_TYPE, SCHEDULED_DETAIL_TYPE, source_of_event_source},
};
use serde_json::{Map, Value, json};

const OWN_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");

/// Every catalog pattern, each `$or` expanded into its alternatives (Quamina has no `$or`; a
/// pattern with it matches exactly when one alternative does).
fn matcher() -> Quamina<String> {
    let mut matcher = Quamina::new();
    for (rule, pattern) in intake::event_patterns().as_object().expect("patterns") {
        for alternative in alternatives(pattern.as_object().expect("a pattern object")) {
            matcher
                .add_pattern(rule.clone(), &Value::Object(alternative).to_string())
                .unwrap_or_else(|err| panic!("{rule}: {err}"));
        }
    }
    matcher
}

/// The `$or`-free patterns that together match what `pattern` matches.
fn alternatives(pattern: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let mut combined = vec![Map::new()];
    for (member, value) in pattern {
        let options: Vec<Map<String, Value>> = match value {
            Value::Array(branches) if member == "$or" => branches
                .iter()
                .flat_map(|branch| alternatives(branch.as_object().expect("an $or branch")))
                .collect(),
            Value::Object(inner) => alternatives(inner)
                .into_iter()
                .map(|inner| Map::from_iter([(member.clone(), Value::Object(inner))]))
                .collect(),
            leaf => vec![Map::from_iter([(member.clone(), leaf.clone())])],
        };
        combined = combined
            .iter()
            .flat_map(|so_far| {
                options.iter().map(move |option| {
                    let mut joined = so_far.clone();
                    joined.extend(option.clone());
                    joined
                })
            })
            .collect();
    }
    combined
}

/// The event as EventBridge delivers it: an envelope as is, a CloudTrail record wrapped the way
/// EventBridge wraps API calls.
fn as_delivered(event: &Event) -> Value {
    match event {
        Event::Envelope(envelope) => serde_json::to_value(envelope).expect("an envelope"),
        Event::Record(record) => {
            let event_source = record["eventSource"].as_str().expect("eventSource");
            json!({
                "source": source_of_event_source(event_source).expect("a service"),
                "detail-type": API_CALL_DETAIL_TYPE,
                "detail": record,
            })
        }
    }
}

fn delivered(matcher: &Quamina<String>, event: &Value) -> bool {
    matcher
        .has_matches(event.to_string().as_bytes())
        .expect("an event")
}

/// Every event of the fixture folders: (file, event as delivered, the intake's decision).
fn fixture_events() -> Vec<(String, Value, Decision)> {
    let mut folders = vec![PathBuf::from(OWN_FIXTURES)];
    folders.extend(reachguard_test_support::shared_folder("fixtures/events"));
    let mut events = Vec::new();
    for folder in folders {
        for entry in std::fs::read_dir(&folder).expect("a fixture folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let name = file_name(&path);
            let input = std::fs::read(&path).expect("a fixture");
            for event in intake::decode(&input).unwrap_or_else(|err| panic!("{name}: {err}")) {
                let decision = intake::classify(&event, &LoopGuard::default());
                events.push((name.clone(), as_delivered(&event), decision));
            }
        }
    }
    events
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The scheduled sweep is selected by its schedule, not by a pattern.
#[test]
fn every_event_the_intake_evaluates_is_delivered() {
    let matcher = matcher();
    let lost: Vec<String> = fixture_events()
        .into_iter()
        .filter(|(_, event, decision)| {
            matches!(decision, Decision::Evaluate { event_name, .. } if event_name != SCHEDULED_DETAIL_TYPE)
                && !delivered(&matcher, event)
        })
        .map(|(name, ..)| name)
        .collect();
    assert!(lost.is_empty(), "evaluated but never delivered: {lost:?}");
}

#[test]
fn tagging_calls_without_a_reachguard_key_are_not_delivered() {
    let matcher = matcher();
    let mut tagging = 0;
    for (name, event, decision) in fixture_events() {
        let untagged = matches!(
            decision,
            Decision::Ignore {
                reason: IgnoreReason::NoReachguardTag,
                ..
            }
        );
        if untagged {
            tagging += 1;
            assert!(!delivered(&matcher, &event), "{name} is delivered");
        }
    }
    assert!(tagging > 0, "no fixture tags without a reachguard: key");
}

#[test]
fn tagging_calls_with_a_reachguard_key_are_delivered_in_every_request_shape() {
    let matcher = matcher();
    let own = |name: &str| {
        let input = std::fs::read(Path::new(OWN_FIXTURES).join(name)).expect("a fixture");
        let events = intake::decode(&input).expect("an event");
        as_delivered(&events[0])
    };
    let with_request = |event_name: &str, request: Value| {
        let mut event = own("ec2__CreateTags__reachguard-key.json");
        event["detail"]["eventName"] = json!(event_name);
        event["detail"]["requestParameters"] = request;
        event
    };
    let cases = [
        (
            "CreateTags, reachguard:mode",
            own("ec2__CreateTags__reachguard-key.json"),
            true,
        ),
        (
            "CreateTags, Name (value reachguard:prod)",
            own("ec2__CreateTags__other-key.json"),
            false,
        ),
        (
            "DeleteTags, reachguard:exempt",
            own("ec2__DeleteTags__security-group.json"),
            true,
        ),
        (
            "DeleteTags wrapped, one Tag",
            own("ec2__DeleteTags__wrapped-endpoint.json"),
            true,
        ),
        (
            "CreateTags, reachguard: key second of three",
            with_request(
                "CreateTags",
                json!({"resourcesSet": {"items": [{"resourceId": "vpc-1"}]},
                    "tagSet": {"items": [{"key": "Name", "value": "a"},
                        {"key": "reachguard:exempt", "value": "all"}, {"key": "team", "value": "b"}]}}),
            ),
            true,
        ),
        (
            "CreateTags wrapped, Tag array",
            with_request(
                "CreateTags",
                json!({"CreateTagsRequest": {"ResourceId": {"tag": 1, "content": "vpc-1"},
                    "Tag": [{"tag": 1, "Key": "Name", "Value": "a"},
                        {"tag": 2, "Key": "reachguard:mode", "Value": "notify"}]}}),
            ),
            true,
        ),
        (
            "DeleteTags wrapped, other key",
            with_request(
                "DeleteTags",
                json!({"DeleteTagsRequest": {"ResourceId": {"tag": 1, "content": "vpc-1"},
                    "Tag": {"tag": 1, "Key": "Name"}}}),
            ),
            false,
        ),
        (
            "CreateTags, key only differs in case",
            with_request(
                "CreateTags",
                json!({"tagSet": {"items": [{"key": "Reachguard:mode", "value": "notify"}]}}),
            ),
            false,
        ),
    ];
    for (case, event, expected) in cases {
        assert_eq!(delivered(&matcher, &event), expected, "{case}");
    }
}
